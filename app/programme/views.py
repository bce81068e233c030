"""The programme's staff pages: activities and their schedules, one session (attendance,
cancel, move), a visit counted as attending, and outreach contacts. Importing `public` attaches
the visitors' programme, calendar feed and poster."""

from datetime import timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select

from .. import languages
from ..access import roles, signed_in
from ..choices import Role, SessionStatus
from ..extensions import db
from ..i18n import CONTENT_LOCALES, DEFAULT_LOCALE, current_locale
from ..models import (
    ActivitySchedule,
    ActivitySession,
    ActivityTranslation,
    InformationContact,
    Visit,
)
from ..names import service_names
from ..request_input import query_id
from ..scope import one_or_404, services_query, site_for_user, site_ids, sites_query
from ..visits.queries import own_visit_of_today
from ..web import form_status, paginate
from ..workdays import local_today
from . import bp, public, records  # noqa: F401 (public: the visitors' routes)
from .describe import describe
from .forms import (
    WEEKDAY_CHOICES,
    ActivityForm,
    AttendanceForm,
    ChangeForm,
    ContactForm,
    KindForm,
    ScheduleForm,
)
from .forms import TranslationForm as TextForm
from .queries import (
    activities_query,
    activity_for_user,
    kind_choices,
    kind_labels,
    session_for_user,
    sessions_between,
    visits_counted,
    visits_of_the_day,
)

PLANNERS = (Role.STAFF, Role.ADMIN)


def activity_form(activity=None, **kwargs) -> ActivityForm:
    form = ActivityForm(**kwargs)
    locale = current_locale()
    form.site_id.choices = [(s.id, s.name) for s in db.session.scalars(sites_query(current_user))]
    form.kind.choices = kind_choices(
        current_user.organisation_id, locale, keep=activity.kind if activity else None
    )
    rows = list(db.session.scalars(services_query(current_user)))
    names = service_names([s.id for s in rows], locale)
    form.service_id.choices = [(0, _("Ingen"))] + [(s.id, names.get(s.id, s.slug)) for s in rows]
    return form


def chips_for(selected) -> str:
    """Language chips in the reader's language, `selected` checked (app.languages.chips)."""
    return languages.chips(current_locale(), frozenset(), frozenset(selected or ()))


def swedish_text(activity) -> ActivityTranslation | None:
    return next((t for t in activity.translations if t.locale == DEFAULT_LOCALE), None)


def show_refusal(form, refused: records.Refused) -> None:
    field = getattr(form, refused.field, None)
    if field is not None:
        field.errors = [*field.errors, refused.message]
    else:
        form.form_errors.append(refused.message)


@bp.get("/programme/")
@roles(*PLANNERS)
def activities():
    page = paginate(activities_query(current_user))
    labels = kind_labels(current_user.organisation_id, current_locale())
    texts = {}
    if page.items:
        ids = [a.id for a in page.items]
        texts = {
            t.activity_id: t.name
            for t in db.session.scalars(
                select(ActivityTranslation).where(
                    ActivityTranslation.activity_id.in_(ids),
                    ActivityTranslation.locale == DEFAULT_LOCALE,
                )
            )
        }
    return render_template(
        "programme/activities.html", page=page, labels=labels, names=texts, kind_form=KindForm()
    )


@bp.route("/programme/activities/new", methods=["GET", "POST"])
@roles(*PLANNERS)
def new_activity():
    form = activity_form()
    if request.method == "GET" and (preselected := query_id("site")):
        form.site_id.data = preselected
    if form.validate_on_submit():
        site_for_user(current_user, form.site_id.data)  # the choices already say so; 404 if not
        activity = records.add_activity(current_user.organisation_id, form)
        db.session.commit()
        flash(_("Aktiviteten är sparad. Lägg nu till när den hålls."))
        return redirect(url_for("programme.activity", activity_id=activity.id), code=303)
    page = render_template(
        "programme/activity_form.html", form=form, activity=None, chips_for=chips_for
    )
    return page, form_status(form)


@bp.route("/programme/activities/<int:activity_id>", methods=["GET", "POST"])
@roles(*PLANNERS)
def activity(activity_id: int):
    activity_ = activity_for_user(current_user, activity_id)
    text = swedish_text(activity_)
    data = None
    if request.method == "GET":
        data = {
            "site_id": activity_.site_id,
            "kind": activity_.kind,
            "name": text.name if text else "",
            "description": text.description if text else "",
            "service_id": activity_.service_id or 0,
            "partner_name": activity_.partner_name,
            "languages": activity_.languages,
            "room": activity_.room,
            "capacity": activity_.capacity,
            "needs_registration": activity_.needs_registration,
            "is_active": activity_.is_active,
        }
    form = activity_form(activity_, data=data)
    if form.validate_on_submit():
        try:
            records.update_activity(activity_, form)
        except records.Refused as refused:
            db.session.rollback()
            show_refusal(form, refused)
        else:
            db.session.commit()
            flash(_("Ändringen är sparad."))
            return redirect(url_for("programme.activity", activity_id=activity_.id), code=303)
    return activity_page(activity_, form, ScheduleForm(formdata=None)), form_status(form)


def activity_page(activity_, form, schedule_form):
    today = local_today()
    upcoming = paginate(
        select(ActivitySession)
        .where(ActivitySession.activity_id == activity_.id, ActivitySession.on_date >= today)
        .order_by(ActivitySession.on_date, ActivitySession.start_time)
    )
    return render_template(
        "programme/activity_form.html",
        form=form,
        activity=activity_,
        schedule_form=schedule_form,
        upcoming=upcoming,
        locales=CONTENT_LOCALES,
        texts={t.locale: t for t in activity_.translations},
        describe_rule=describe,
        chips_for=chips_for,
        weekday_choices=WEEKDAY_CHOICES,
    )


@bp.post("/programme/activities/<int:activity_id>/schedules")
@roles(*PLANNERS)
def add_schedule(activity_id: int):
    activity_ = activity_for_user(current_user, activity_id)
    schedule_form = ScheduleForm()
    if schedule_form.validate_on_submit():
        try:
            sessions = records.add_schedule(activity_, schedule_form)
        except records.Refused as refused:
            db.session.rollback()
            show_refusal(schedule_form, refused)
        else:
            db.session.commit()
            flash(
                ngettext(
                    "Schemat är sparat: %(num)s tillfälle.",
                    "Schemat är sparat: %(num)s tillfällen.",
                    len(sessions),
                )
            )
            return redirect(url_for("programme.activity", activity_id=activity_.id), code=303)
    form = activity_form(activity_, formdata=None, obj=None)
    text = swedish_text(activity_)
    form.process(
        data={
            "site_id": activity_.site_id,
            "kind": activity_.kind,
            "name": text.name if text else "",
        }
    )
    return activity_page(activity_, form, schedule_form), 422


@bp.post("/programme/schedules/<int:schedule_id>/delete")
@roles(*PLANNERS)
def remove_schedule(schedule_id: int):
    schedule = db.session.get(ActivitySchedule, schedule_id)
    if schedule is None:
        abort(404)
    activity_ = activity_for_user(current_user, schedule.activity_id)
    removed = records.remove_schedule(schedule)
    db.session.commit()
    flash(
        ngettext(
            "Schemat är borttaget. %(num)s kommande tillfälle togs bort.",
            "Schemat är borttaget. %(num)s kommande tillfällen togs bort.",
            removed,
        )
    )
    return redirect(url_for("programme.activity", activity_id=activity_.id), code=303)


@bp.route("/programme/activities/<int:activity_id>/texts/<code>", methods=["GET", "POST"])
@roles(*PLANNERS)
def activity_text(activity_id: int, code: str):
    if code not in CONTENT_LOCALES or code == DEFAULT_LOCALE:
        abort(404)
    activity_ = activity_for_user(current_user, activity_id)
    row = next((t for t in activity_.translations if t.locale == code), None)
    data = None
    if request.method == "GET" and row is not None:
        data = {
            "name": row.name,
            "description": row.description,
            "reviewed": row.status == "reviewed",
        }
    form = TextForm(data=data)
    if form.validate_on_submit():
        records.set_text(activity_, code, form.name.data, form.description.data, form.reviewed.data)
        db.session.commit()
        flash(_("Texten är sparad."))
        return redirect(url_for("programme.activity", activity_id=activity_.id), code=303)
    return render_template(
        "programme/text_form.html",
        form=form,
        activity=activity_,
        code=code,
        language=CONTENT_LOCALES[code],
        source=swedish_text(activity_),
    ), form_status(form)


@bp.post("/programme/kinds")
@roles(Role.ADMIN)
def add_kind():
    form = KindForm()
    if form.validate_on_submit():
        records.add_kind(current_user.organisation_id, form.name.data.strip())
        db.session.commit()
        flash(_("Typen är tillagd."))
    else:
        flash(" ".join(str(error) for error in form.name.errors), "error")
    return redirect(url_for("programme.activities"), code=303)


# ---------------------------------------------------------------------------- one session


def session_page(session, attendance_form=None, change_form=None, status: int = 200):
    names = {
        r.session.id: r
        for r in sessions_between(
            [session.site_id], session.on_date, session.on_date, current_locale()
        )
    }
    row = names.get(session.id)
    counted = visits_counted([session.id]).get(session.id)
    if attendance_form is None:
        data = None
        if session.attendance is not None:
            a = session.attendance
            data = {
                name: getattr(a, name)
                for name in (
                    "women",
                    "men",
                    "other_adults",
                    "children_0_1",
                    "children_1_3",
                    "children_3_6",
                    "new_people",
                    "conversations",
                )
            }
            data["languages"] = [lang.code for lang in a.languages]
        attendance_form = AttendanceForm(formdata=None, data=data)
    if change_form is None:
        change_form = ChangeForm(
            formdata=None,
            data={
                "on_date": session.on_date,
                "start_time": session.start_time,
                "end_time": session.end_time,
                "reason": session.change_reason or "other",
            },
        )
    selected = frozenset(attendance_form.languages.data or ())
    # The activity's own languages first (alphabetical), then every other one as before.
    named = languages.names(current_locale())
    own_codes = (row.languages if row else session.activity.languages) or []
    own = sorted(
        (named[code] for code in set(own_codes) if code in named), key=lambda n: n.name.casefold()
    )
    own_set = frozenset(n.code for n in own)
    return (
        render_template(
            "programme/session.html",
            session=session,
            row=row,
            counted=counted,
            form=attendance_form,
            change_form=change_form,
            refusal=records.attendance_refusal(session),
            own_languages=own,
            selected_languages=selected,
            language_chips=languages.chips(current_locale(), own_set, selected - own_set),
            kind_labels=kind_labels(current_user.organisation_id, current_locale()),
            visits=visits_of_the_day(session, current_user)
            if not records.attendance_refusal(session)
            else [],
        ),
        status,
    )


@bp.get("/programme/sessions/<int:session_id>")
@signed_in
def session(session_id: int):
    return session_page(session_for_user(current_user, session_id))


@bp.post("/programme/sessions/<int:session_id>/attendance")
@signed_in
def attendance(session_id: int):
    session_ = session_for_user(current_user, session_id)
    form = AttendanceForm()
    refusal = records.attendance_refusal(session_)
    if refusal:
        form.validate_on_submit()
        form.form_errors.append(refusal)
        return session_page(session_, attendance_form=form, status=422)
    if not form.validate_on_submit():
        return session_page(session_, attendance_form=form, status=form_status(form))
    records.record_attendance(session_, form, by=current_user)
    db.session.commit()
    flash(_("Närvaron är sparad."))
    return redirect(url_for("visits.site_today", site_id=session_.site_id), code=303)


@bp.post("/programme/sessions/<int:session_id>/cancel")
@roles(*PLANNERS)
def cancel(session_id: int):
    session_ = session_for_user(current_user, session_id)
    form = ChangeForm()
    form.on_date.data = form.start_time.data = form.end_time.data = None
    if not form.validate_on_submit() and form.reason.errors:
        return session_page(session_, change_form=form, status=422)
    records.cancel(session_, form.reason.data)
    db.session.commit()
    flash(_("Tillfället är inställt. Besökarna ser det i programmet."))
    return redirect(url_for("programme.session", session_id=session_.id), code=303)


@bp.post("/programme/sessions/<int:session_id>/restore")
@roles(*PLANNERS)
def restore(session_id: int):
    session_ = session_for_user(current_user, session_id)
    if session_.status != SessionStatus.CANCELLED:
        return redirect(url_for("programme.session", session_id=session_.id), code=303)
    try:
        records.restore(session_)
    except records.Refused as refused:
        db.session.rollback()
        flash(refused.message, "error")
    else:
        db.session.commit()
        flash(_("Tillfället blir av igen."))
    return redirect(url_for("programme.session", session_id=session_.id), code=303)


@bp.post("/programme/sessions/<int:session_id>/move")
@roles(*PLANNERS)
def move(session_id: int):
    session_ = session_for_user(current_user, session_id)
    form = ChangeForm()
    valid = form.validate_on_submit()
    if not (form.validate_for_move() and valid):
        return session_page(session_, change_form=form, status=422)
    try:
        records.move(
            session_, form.on_date.data, form.start_time.data, form.end_time.data, form.reason.data
        )
    except records.Refused as refused:
        db.session.rollback()
        show_refusal(form, refused)
        return session_page(session_, change_form=form, status=422)
    db.session.commit()
    flash(_("Tillfället är flyttat. Besökarna ser det i programmet."))
    return redirect(url_for("programme.session", session_id=session_.id), code=303)


@bp.post("/programme/visits/<int:visit_id>/session")
@signed_in
def count_visit(visit_id: int):
    """One tap: this visit came to that session (or to none). As with editing a visit, only
    the one who recorded it, on the day it was recorded."""
    site_id = one_or_404(
        select(Visit.site_id).where(Visit.id == visit_id, Visit.site_id.in_(site_ids(current_user)))
    )
    visit = own_visit_of_today(site_for_user(current_user, site_id), visit_id, current_user)
    session_id = query_id("session_id", request.form)
    from_session = query_id("from_session", request.form)
    session_ = session_for_user(current_user, session_id) if session_id else None
    try:
        records.count_visit(visit, session_)
    except records.Refused as refused:
        db.session.rollback()
        flash(refused.message, "error")
    else:
        db.session.commit()
        flash(
            _("Besöket räknas till tillfället.")
            if session_
            else _("Besöket räknas inte längre till något tillfälle.")
        )
    if request.form.get("back") == "today":
        target = url_for("visits.site_today", site_id=visit.site_id, _anchor="today-totals")
        return redirect(target, code=303)
    if session_ is not None or from_session:
        back = session_id or from_session
        return redirect(url_for("programme.session", session_id=back, _anchor="visits"), code=303)
    return redirect(url_for("visits.site_today", site_id=visit.site_id), code=303)


# ---------------------------------------------------------------------------- outreach


@bp.route("/sites/<int:site_id>/outreach", methods=["GET", "POST"])
@signed_in
def outreach(site_id: int):
    site = site_for_user(current_user, site_id)
    form = ContactForm()
    if form.validate_on_submit():
        records.add_contact(site, form, by=current_user)
        db.session.commit()
        flash(_("Informationen är sparad."))
        return redirect(url_for("programme.outreach", site_id=site.id), code=303)
    today = local_today()
    recent = paginate(
        select(InformationContact)
        .where(
            InformationContact.site_id == site.id,
            InformationContact.on_date >= today - timedelta(days=7),
        )
        .order_by(InformationContact.on_date.desc(), InformationContact.id.desc())
    )
    return render_template(
        "programme/outreach.html",
        site=site,
        form=form,
        recent=recent,
        language_chips=languages.chips(
            current_locale(), frozenset(), frozenset(form.languages.data or ())
        ),
    ), form_status(form)
