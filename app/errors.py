"""Translated error pages; htmx requests get a short fragment instead of a whole page."""

from flask import Flask, render_template
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, InternalServerError

from .extensions import db, login_manager
from .web import is_htmx

MESSAGES = {
    400: (_l("Något var fel i förfrågan"), _l("Gå tillbaka, ladda om sidan och försök igen.")),
    403: (_l("Du kan inte öppna den här sidan"), _l("Ditt konto ger inte tillgång till den.")),
    404: (_l("Sidan finns inte"), _l("Kontrollera adressen, eller börja om från första sidan.")),
    405: (_l("Det gick inte"), _l("Gå tillbaka och försök igen.")),
    409: (_l("Någon annan ändrade samtidigt"), _l("Ladda om sidan för att se det senaste.")),
    413: (_l("Filen är för stor"), _l("Välj en mindre fil.")),
    422: (_l("Något var fel i förfrågan"), _l("Gå tillbaka, ladda om sidan och försök igen.")),
    429: (_l("För många försök"), _l("Vänta en minut och försök igen.")),
    500: (_l("Något gick fel hos oss"), _l("Det var inte ditt fel. Försök igen om en stund.")),
}
MESSAGES[503] = MESSAGES[500]  # the database is briefly away: the same words fit
RETRY_AFTER_SECONDS = 5


def render_error(code: int):
    title, hint = MESSAGES.get(code, MESSAGES[400])
    template = "errors/_error.html" if is_htmx() else "errors/error.html"
    return render_template(template, code=code, title=title, hint=hint), code


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(_error):
        return render_error(400)

    @app.errorhandler(StaleDataError)
    def stale(_error):
        db.session.rollback()
        return render_error(409)

    @app.errorhandler(OperationalError)
    def database_unavailable(error: OperationalError):
        """The database is restarting or unreachable (or SQLite waited out its busy timeout):
        a temporary state, so 503 with Retry-After, which clients and proxies retry on."""
        app.logger.exception("Database unavailable", exc_info=error)
        # Drop the connection without a rollback on it (a restarted server has closed it;
        # the pool makes a new one), and draw the page as for a visitor who is not signed in:
        # the signed-in header would load the user's rows from the database that is away.
        db.session().invalidate()
        login_manager._update_request_context_with_user()  # anonymous for this answer only
        body, code = render_error(503)
        return body, code, {"Retry-After": str(RETRY_AFTER_SECONDS)}

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        return render_error(error.code if error.code in MESSAGES else 400)

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        db.session.rollback()
        app.logger.exception("Unhandled error", exc_info=error)
        return render_error(InternalServerError.code)
