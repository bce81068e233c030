"""Admin: the audit log screen. Filter by user, record, action and period; page through;
export the filtered events as CSV (the export is itself audited). An admin sees the events of
their own organisation only."""

import csv
import io
import json
from datetime import datetime, time, timedelta

from flask import Response, current_app, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import Select
from sqlalchemy.orm import selectinload

from .. import audit
from ..access import roles
from ..choices import Role
from ..database import write_transaction
from ..extensions import db
from ..models import AuditEvent, User
from ..scope import org_query
from ..web import paginate, render
from . import SECTIONS, bp
from .forms import AuditFilterForm

SECTIONS.append(
    ("admin.audit_log", _l("Logg"), _l("Vem gjorde vad och när. Filtrera och exportera."))
)

CSV_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@bp.context_processor
def _audit_context() -> dict:
    return {"action_label": audit.action_label, "object_label": audit.object_label}


def _filter_form() -> AuditFilterForm:
    form = AuditFilterForm(formdata=request.args)
    users = db.session.execute(
        org_query(current_user, User).with_only_columns(User.id, User.name).order_by(User.name)
    )
    form.user.choices = [("", _("Alla"))] + [(str(uid), name) for uid, name in users]
    form.action.choices = [("", _("Alla"))] + [
        (a, str(label)) for a, label in audit.ACTION_LABELS.items()
    ]
    form.object_type.choices = [("", _("Alla"))] + [
        (t, str(label)) for t, label in audit.OBJECT_LABELS.items()
    ]
    return form


def _filtered(form: AuditFilterForm) -> Select:
    query = org_query(current_user, AuditEvent)
    if form.user.data:
        query = query.where(AuditEvent.user_id == int(form.user.data))
    if form.action.data:
        query = query.where(AuditEvent.action == form.action.data)
    if form.object_type.data:
        query = query.where(AuditEvent.object_type == form.object_type.data)
    if form.object_id.data:
        query = query.where(AuditEvent.object_id == form.object_id.data)
    # Days are Swedish calendar days at the boundary; stored times are UTC, and a day's margin
    # either side would be wrong, so the period is taken in UTC days (documented on the screen).
    if form.start.data:
        query = query.where(AuditEvent.at >= datetime.combine(form.start.data, time.min))
    if form.end.data:
        query = query.where(
            AuditEvent.at < datetime.combine(form.end.data + timedelta(days=1), time.min)
        )
    return query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())


def _valid(form: AuditFilterForm) -> bool:
    # A form with no fields sent is simply "everything"; validate only what was sent.
    return form.validate() if request.args else True


@bp.get("/audit/")
@roles(Role.ADMIN)
def audit_log():
    form = _filter_form()
    if not _valid(form):
        return render("admin/audit.html", form=form, page=None, args={}), 422
    query = _filtered(form).options(selectinload(AuditEvent.user))
    page = paginate(query)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render("admin/audit.html", form=form, page=page, args=args)


def _cell(value) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(CSV_FORMULA_START) else text


@bp.get("/audit/export.csv")
@roles(Role.ADMIN)
def audit_export():
    form = _filter_form()
    if not _valid(form):
        return render("admin/audit.html", form=form, page=None, args={}), 422
    filters = {k: v for k, v in request.args.items() if v}
    with write_transaction():
        audit.record(
            "audit_exported", "organisation", current_user.organisation_id, filters=filters
        )
    query = (
        _filtered(form)
        .outerjoin(User, AuditEvent.user_id == User.id)
        .with_only_columns(
            AuditEvent.id,
            AuditEvent.at,
            AuditEvent.action,
            AuditEvent.object_type,
            AuditEvent.object_id,
            AuditEvent.user_id,
            User.name,
            AuditEvent.ip,
            AuditEvent.detail,
        )
        .order_by(None)
        .order_by(AuditEvent.id)
    )
    stamp = datetime.now().strftime("%Y%m%d-%H%M")
    return Response(
        _csv_chunks(current_app._get_current_object(), query),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="audit-{stamp}.csv"'},
    )


def _csv_chunks(app, query: Select, size: int = 500):
    """The export's CSV, read in keyset pages so a long log never sits in memory.

    Each page is read in an app context opened and closed before anything is yielded: a
    context held across a yield would outlive the request when a client stops reading.
    """
    yield _csv_text(
        [["at_utc", "action", "object_type", "object_id", "user_id", "user", "ip", "detail"]]
    )
    last_id = 0
    while True:
        with app.app_context():
            page = db.session.execute(query.where(AuditEvent.id > last_id).limit(size)).all()
        if not page:
            return
        last_id = page[-1].id
        yield _csv_text(_csv_row(row) for row in page)


def _csv_row(row) -> list[str]:
    _, at, action, otype, oid, uid, uname, ip, detail = row
    detail_text = json.dumps(detail, ensure_ascii=False) if detail else ""
    return [
        _cell(v)
        for v in (at.isoformat(timespec="seconds"), action, otype, oid, uid, uname, ip, detail_text)
    ]


def _csv_text(rows) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()
