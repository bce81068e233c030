"""Queue pages and the inline actions on a referral.

Every action is a POST that carries the referral's version. It answers htmx with the updated
row plus the tab counts out of band, and a plain form with a 303 redirect. A stale version is
a 409 that shows the current row; a refused step is a 422 with the message beside the field.
"""

from __future__ import annotations

from collections import defaultdict
from functools import lru_cache
from urllib.parse import urlsplit

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from .. import audit, outbox, privacy
from ..access import QUEUE_ROLES, roles
from ..choices import (
    AttemptChannel,
    AttemptResult,
    DeclineReason,
    ReasonCode,
    ReferralStatus,
    label,
)
from ..extensions import db
from ..followup import queries as follow_ups
from ..i18n import current_locale
from ..models import Service, User, service_coordinators
from ..names import service_names
from ..partners.workflow import is_ack_overdue
from ..request_input import parse_id, query_id
from ..web import is_htmx, local_path, paginate, render
from ..workdays import local_today
from . import bp, queries, workflow
from .forms import ActionForm, AssignForm, AttemptForm, FollowUpForm, StatusForm

OPTION = Markup('<option value="{}">{}</option>')


def N_(msgid: str) -> str:
    """Marks a msgid for extraction (a Babel default keyword); translated later."""
    return msgid


# The fixed texts of a queue row. A page shows 25 rows, so they are translated once per
# language here instead of some thirty catalogue lookups per row in the template.
ROW_TEXTS = (
    N_("Ansvarig"),
    N_("Avsluta som ej nåbar"),
    N_("Bara när du avslutar."),
    N_("Datum"),
    N_("Ej kvitterad av mottagaren"),
    N_("Försenad"),
    N_("Ge till"),
    N_("Ingen"),
    N_("Ingen orsak"),
    N_("Ingen ännu"),
    N_("Inget (avslutar inte)"),
    N_("Inget ändrades. Rätta det som är markerat och försök igen."),
    N_("Inkom"),
    N_("Kanal"),
    N_("Kontaktförsök"),
    N_("Kontaktspråk"),
    N_("Misslyckade försök"),
    N_("Nytt steg"),
    N_("Nästa steg"),
    N_("Nästa uppföljning"),
    N_("Någon annan hann ändra hänvisningen. Så här ser den ut nu. Gör om ditt val om det behövs."),
    N_("Orsak (valfri)"),
    N_("Resultat"),
    N_("Spara försöket"),
    N_("Spara steget"),
    N_("Ställe"),
    N_("Sätt datum"),
    N_("Ta den själv"),
    N_("Tilldela"),
    N_("Tjänst"),
    N_("Tolk behövs"),
    N_("Uppföljning"),
    N_("Utfall"),
    N_("Åtgärder"),
)


@lru_cache(maxsize=32)
def _row_texts(locale: str) -> dict[str, str]:
    return {msgid: gettext(msgid) for msgid in ROW_TEXTS}


@bp.app_template_global("queue_texts")
def row_texts() -> dict[str, str]:
    return _row_texts(current_locale())


@lru_cache(maxsize=256)
def _option_tags(locale: str, kind: str, status: str | None) -> Markup:
    """The <option>s of one action select, in `locale` (the request's), built once: a queue
    page shows them on every row, and each label is a catalogue lookup."""
    choices = {
        "steps": [s for s in ReferralStatus if status and s in workflow.ALLOWED[status]],
        "outcomes": workflow.MANUAL_OUTCOMES,
        "reasons": list(ReasonCode),
        "channels": list(AttemptChannel),
        "results": list(AttemptResult),
    }[kind]
    return Markup("").join(OPTION.format(c.value, c.label) for c in choices)


@bp.app_template_global("queue_options")
def option_tags(kind: str, status: str | None = None) -> Markup:
    return _option_tags(current_locale(), kind, status)


DECLINE_REASONS = frozenset(r.value for r in DeclineReason)


@bp.app_template_global("reason_label")
def reason_label(code: str) -> str:
    """The label of an event's coded reason: a receiving service's decline reason (on its step
    and on the close it causes, app.partners) or a coordinator's reason; the two lists share
    no code."""
    return label(DeclineReason if code in DECLINE_REASONS else ReasonCode, code)


@bp.context_processor
def queue_template_context():
    return {
        "outcomes": workflow.MANUAL_OUTCOMES,
        "allowed_steps": workflow.ALLOWED,
        "is_overdue": workflow.is_overdue,
        "next_deadline": workflow.next_deadline,
        "suggests_unreachable": workflow.suggests_unreachable,
        "default_follow_up": workflow.default_follow_up,
        "today": local_today(),
    }


def coordinators_by_service(service_ids: set[int]) -> dict[int, list[User]]:
    """The coordinators each service's assign menu offers, for many services in one query."""
    result: dict[int, list[User]] = defaultdict(list)
    if not service_ids:
        return result
    rows = db.session.execute(
        select(service_coordinators.c.service_id, User)
        .join(User, User.id == service_coordinators.c.user_id)
        .where(service_coordinators.c.service_id.in_(service_ids), User.is_enabled)
        .order_by(User.name)
    )
    for service_id, user in rows:
        result[service_id].append(user)
    return result


def row_context(referrals, services: tuple[Service, ...] = (), lazy: bool = False, **extra) -> dict:
    """What the rows show beside the referrals themselves; `services` are named too (a queue's
    heading names its service even when no row does). `lazy` rows (a list page's) show a link
    to their actions instead of the forms, so the assign menu's coordinators are not read."""
    service_ids = {r.service_id for r in referrals}
    return {
        "org": current_user.organisation,
        "coordinators": {} if lazy else coordinators_by_service(service_ids),
        "lazy_rows": lazy,
        "ack_overdue": queries.ack_overdue_ids(referrals, local_today()),
        "service_names": service_names(service_ids | {s.id for s in services}, current_locale()),
        "next_url": safe_next(request.full_path if request.method == "GET" else None),
        **extra,
    }


def safe_next(url: str | None) -> str | None:
    """Only a path inside the queue area may be a redirect target."""
    url = local_path(url)
    if url and url.startswith("/queue/") and "//" not in url:
        return url.rstrip("?")
    return None


# ---------------------------------------------------------------- pages


@bp.get("/")
@roles(*QUEUE_ROLES)
def index():
    services = list(db.session.scalars(queries.queue_services(current_user)))
    if len(services) == 1:
        return redirect(url_for("queue.service", service_id=services[0].id))
    ids = [s.id for s in services]
    overview = queries.service_overview(ids, local_today())
    names = service_names(ids, current_locale())
    return render("queue/index.html", services=services, overview=overview, service_names=names)


@bp.get("/today")
@roles(*QUEUE_ROLES)
def today():
    day = local_today()
    page = paginate(queries.my_tasks_query(current_user, day))
    # The follow-ups due today or earlier in the user's queues: the first page's worth.
    due = paginate(follow_ups.due_for_user(current_user, day), page=1)
    context = row_context(page.items, lazy=True, follow_ups_due=due)
    context["service_names"].update(
        service_names(
            {f.service_id for f in due.items} - set(context["service_names"]), current_locale()
        )
    )
    return render("queue/today.html", page=page, **context)


def read_filter() -> queries.QueueFilter:
    args = request.args
    tab = args.get("tab", "open")
    if tab not in queries.TABS and tab != queries.FOLLOW_UP_TAB:
        tab = "open"
    return queries.QueueFilter(
        tab=tab,
        site_id=query_id("site_id"),
        language=args.get("language") or None,
        interpreter=args.get("interpreter") == "1",
        overdue=args.get("overdue") == "1",
        mine=args.get("mine") == "1",
    )


@bp.get("/services/<int:service_id>")
@roles(*QUEUE_ROLES)
def service(service_id: int):
    queue_service = queries.queue_service_for_user(current_user, service_id)
    flt = read_filter()
    day = local_today()
    if flt.tab == queries.FOLLOW_UP_TAB:
        page = paginate(follow_ups.open_for_service(queue_service, flt, current_user, day))
    else:
        page = paginate(queries.queue_query(queue_service, flt, current_user, day))
    referrals = [] if flt.tab == queries.FOLLOW_UP_TAB else page.items
    return render(
        "queue/service.html",
        service=queue_service,
        flt=flt,
        page=page,
        counts=service_tab_counts(queue_service, day),
        sites=queries.site_choices(queue_service),
        languages=queries.language_choices(queue_service),
        **row_context(referrals, services=(queue_service,), lazy=True),
    )


def service_tab_counts(service: Service, day=None) -> list[queries.TabCount]:
    """The referral tabs' counts and, last, the open follow-ups' (app.followup)."""
    day = day or local_today()
    follow_up = follow_ups.open_count(service, day)
    tab = queries.TabCount(queries.FOLLOW_UP_TAB, follow_up.total, follow_up.overdue)
    return [*queries.tab_counts(service, day), tab]


def page_context(referral) -> dict:
    """What the referral's page shows beside its row: the timeline, the receiving side and the
    messages to the visitor (their anonymous columns only)."""
    events, names = queries.timeline(referral)
    return row_context(
        [referral],
        referral=referral,
        events=events,
        names=names,
        partners=queries.receiving_partners(referral),
        awaiting_ack=is_ack_overdue(referral, local_today()),
        messages=outbox.messages_of(referral.consent_id, referral.id),
    )


def referral_page(referral, status: int = 200, **extra):
    """The referral's page (or, for htmx, its row) with its timeline; used by errors too."""
    context = page_context(referral)
    context.update(erased=referral.consent.erased_at is not None, **extra)
    if context.get("back_url"):
        context["next_url"] = context["back_url"]  # an action here returns to that queue
    return render("queue/referral.html", partial="queue/_action_result.html", **context), status


@bp.get("/referrals/<int:referral_id>")
@roles(*QUEUE_ROLES)
def referral(referral_id: int):
    """The referral's page; with `actions=1` (a queue row's "Actions" link) its forms are open
    and, for htmx, the answer is that row alone, ready to act on in the list."""
    item = queries.referral_for_user(current_user, referral_id)
    if request.args.get("actions") != "1":
        return referral_page(item)
    back_url = safe_next(request.args.get("next"))
    if is_htmx():
        context = row_context([item], referral=item, open_actions=True)
        context["next_url"] = back_url
        return render("queue/_action_result.html", **context)
    return referral_page(item, open_actions=True, back_url=back_url)


@bp.post("/referrals/<int:referral_id>/contact")
@roles(*QUEUE_ROLES)
def contact(referral_id: int):
    """Contact details, shown only on this explicit request; every read is audited."""
    item = queries.referral_for_user(current_user, referral_id)
    details = privacy.contact_details(item.consent, by=current_user)
    db.session.commit()  # the audit event of the read
    context = page_context(item)
    context.update(erased=details is None, contact=details, revealed=True)
    return render("queue/referral.html", partial="queue/_contact.html", **context)


# ---------------------------------------------------------------- actions


def perform(referral_id: int, form_class: type[ActionForm], apply, step: str):
    """Shared path of every inline action: scope, version, validation, step, audit, commit,
    answer. The audit event names the step and the resulting codes, never contact details."""
    item = queries.referral_for_user(current_user, referral_id)
    form = form_class()
    if form.version.data is None:
        abort(400)  # every action form carries the version; without it, the post was forged
    if form.version.data != item.version:
        return conflict(item)
    if not form.validate_on_submit():
        return invalid(item, form)
    try:
        apply(item, form)
    except workflow.WorkflowError as error:
        db.session.rollback()
        form[error.field].errors = [error.message]
        return invalid(queries.referral_for_user(current_user, referral_id), form)
    audit.record(
        "referral_updated",
        "referral",
        item.id,
        step=step,
        status=item.status,
        outcome=item.outcome,
        assignee_id=item.assignee_id,
    )
    try:
        db.session.commit()
    except StaleDataError:
        # Someone committed between our read and our write; theirs stands.
        db.session.rollback()
        return conflict(queries.referral_for_user(current_user, referral_id))
    if is_htmx():
        return action_result(item, saved=True)
    flash(gettext("Ändringen är sparad."))
    target = safe_next(form.next.data) or url_for("queue.referral", referral_id=item.id)
    return redirect(target, code=303)


def action_result(item, status: int = 200, **extra):
    """The updated row and, out of band, the queue's tab counts when the page has them. After
    a save or a conflict the history comes too: out of band on the referral's page, inside the
    row on a list after a conflict, so the one who lost the race sees what changed."""
    counts = service_tab_counts(item.service) if sent_from_service_queue() else None
    context = row_context([item], referral=item, counts=counts)
    context["next_url"] = safe_next(request.form.get("next"))
    context.update(extra)
    if not is_htmx():
        return referral_page(item, status, **extra)
    if extra.get("conflict") or extra.get("saved"):
        if sent_from(url_for("queue.referral", referral_id=item.id)):
            events, names = queries.timeline(item)
            context.update(events=events, names=names, history_oob=True)
        elif extra.get("conflict"):
            events, names = queries.timeline(item)
            context.update(conflict_history=events, history_names=names)
    return render("queue/_action_result.html", **context), status


def sent_from(path: str) -> bool:
    """Whether htmx sent this request from the page at `path` (its HX-Current-URL)."""
    return urlsplit(request.headers.get("HX-Current-URL", "")).path == path


def sent_from_service_queue() -> bool:
    """Only a service's queue shows tab counts; htmx names the page it sends from. Counts sent
    to the referral page or "my tasks" would find no target, which htmx logs as an error."""
    path = urlsplit(request.headers.get("HX-Current-URL", "")).path
    return path.startswith(url_for("queue.index") + "services/")


def conflict(item):
    db.session.expire_all()
    fresh = queries.referral_for_user(current_user, item.id)
    return action_result(fresh, 409, conflict=True)


def invalid(item, form):
    return action_result(item, 422, form=form, failed_action=request.endpoint)


@bp.post("/referrals/<int:referral_id>/status")
@roles(*QUEUE_ROLES)
def change_status(referral_id: int):
    def apply(item, form: StatusForm):
        workflow.change_status(
            item,
            form.to_status.data,
            by=current_user,
            outcome=form.outcome.data or None,
            reason_code=form.reason_code.data or None,
            follow_up_date=form.follow_up_date.data,
        )

    return perform(referral_id, StatusForm, apply, "status")


@bp.post("/referrals/<int:referral_id>/attempts")
@roles(*QUEUE_ROLES)
def log_attempt(referral_id: int):
    def apply(item, form: AttemptForm):
        workflow.log_attempt(
            item,
            by=current_user,
            channel=form.channel.data,
            result=form.result.data,
            on_date=form.on_date.data,
        )

    return perform(referral_id, AttemptForm, apply, "attempt")


@bp.post("/referrals/<int:referral_id>/follow-up")
@roles(*QUEUE_ROLES)
def set_follow_up(referral_id: int):
    def apply(item, form: FollowUpForm):
        workflow.set_follow_up(item, form.follow_up_date.data, by=current_user)

    return perform(referral_id, FollowUpForm, apply, "follow_up")


@bp.post("/referrals/<int:referral_id>/assign")
@roles(*QUEUE_ROLES)
def assign(referral_id: int):
    def apply(item, form: AssignForm):
        raw = (form.assignee_id.data or "").strip()
        if not raw:
            workflow.assign(item, None, by=current_user)
            return
        allowed = {u.id: u for u in queries.coordinators_of(item.service)}
        allowed.setdefault(current_user.id, current_user)  # an admin may take one too
        chosen = parse_id(raw)
        if chosen not in allowed:
            abort(400)  # the menu offers only the service's coordinators
        workflow.assign(item, allowed[chosen], by=current_user)

    return perform(referral_id, AssignForm, apply, "assign")
