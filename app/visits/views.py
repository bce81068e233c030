"""The visits area's pages: Today (record form, the day's list and totals), edit and undo of
one's own entries, and the week view. Full pages and htmx fragments from one view each."""

from datetime import date, datetime, timedelta
from functools import cached_property

from babel import Locale
from babel.lists import format_list
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import languages
from ..access import signed_in
from ..choices import PartOfDay, Topic
from ..extensions import db
from ..models import Site, User, Visit, VisitLanguage
from ..programme.queries import sessions_between
from ..scope import site_for_user, sites_query
from ..web import (
    claim_form_key,
    commit_once,
    form_status,
    is_htmx,
    paginate,
    redirect_or_partial,
    render,
    replayed_target,
)
from ..workdays import STOCKHOLM, local_today
from . import bp, records
from .forms import EditVisitForm, NewVisitForm, form_data
from .queries import (
    day_totals,
    local_day_start_utc,
    own_visit_of_today,
    remembered_site,
    top_language_codes,
    week_rows,
)

EARLIEST_WEEK = date(2000, 1, 3)


def saved_message(day: date) -> str:
    if day == local_today():
        return _("Besöket är sparat.")
    return _("Besöket är sparat för %(day)s.", day=format_date(day, "d MMMM"))


class TodayView:
    """What the Today screen shows; each part is queried only when a template reads it, so a
    plain POST that redirects runs none of these queries."""

    def __init__(self, site: Site, user: User, form=None, page: int | None = None):
        self.site = site
        self.user = user
        self.day = local_today()
        self.form = form or NewVisitForm(formdata=None)
        self.page_number = page
        self.editable_since = local_day_start_utc(self.day)
        self._label_cache: dict[int | str | tuple[str, ...], str] = {}

    @cached_property
    def sessions(self):
        """Today's sessions at the site (area: programme), named in the reader's language."""
        return sessions_between([self.site.id], self.day, self.day, self.ui_locale)

    @cached_property
    def sessions_now(self):
        """Today's sessions going on about now (from half an hour before to half an hour
        after), not cancelled: a group just recorded may have come to one of them."""
        now = datetime.now(STOCKHOLM).replace(tzinfo=None)
        margin = timedelta(minutes=30)
        return [
            row
            for row in self.sessions
            if not row.cancelled
            and datetime.combine(self.day, row.session.start_time) - margin
            <= now
            <= datetime.combine(self.day, row.session.end_time) + margin
        ]

    @cached_property
    def last_own_visit(self) -> Visit | None:
        """The group this user recorded last today, if it is counted to no session yet."""
        visit = db.session.scalar(
            select(Visit)
            .where(
                Visit.site_id == self.site.id,
                Visit.visit_date == self.day,
                Visit.recorded_by_id == self.user.id,
                Visit.created_at >= self.editable_since,
            )
            .order_by(Visit.created_at.desc(), Visit.id.desc())
            .limit(1)
        )
        return visit if visit is not None and visit.session_id is None else None

    @cached_property
    def totals(self):
        return day_totals(self.site.id, self.day)

    @cached_property
    def visits(self):
        query = (
            select(Visit)
            .where(Visit.site_id == self.site.id, Visit.visit_date == self.day)
            .options(selectinload(Visit.languages))
            .order_by(Visit.created_at.desc(), Visit.id.desc())
        )
        # 25 a page, newest first, as lists are; the request's page unless one was given.
        return paginate(query, self.page_number)

    @cached_property
    def ui_locale(self) -> str:
        return str(self.babel_locale)

    @cached_property
    def babel_locale(self):
        """Flask-Babel's parsed Locale: joining lists with it skips a parse per call."""
        return get_locale() or Locale("sv")

    @cached_property
    def top_languages(self) -> list[languages.LanguageName]:
        names = languages.names(self.ui_locale)
        return [names[c] for c in top_language_codes(self.site.id, self.day) if c in names]

    def more_language_chips(self, selected) -> str:
        top = frozenset(n.code for n in self.top_languages)
        return languages.chips(self.ui_locale, top, frozenset(selected) - top)

    @cached_property
    def sites(self) -> list[Site]:
        return list(db.session.scalars(sites_query(self.user)))

    def can_change(self, visit: Visit) -> bool:
        return visit.recorded_by_id == self.user.id and visit.created_at >= self.editable_since

    def _list(self, items: list[str]) -> str:
        """Items joined the reader's way: "a, b och c", Arabic with its own comma and "و"."""
        return format_list(items, locale=self.babel_locale) if items else ""

    def language_names(self, rows: list[VisitLanguage]) -> str:
        """Each combination of languages named once per page, like the labels below."""
        codes = tuple(row.code for row in rows)
        if codes not in self._label_cache:
            names = [languages.name(code, self.ui_locale) for code in codes]
            self._label_cache[codes] = self._list(names)
        return self._label_cache[codes]

    topic_choices = tuple(Topic)

    def topic_labels(self, mask: int) -> str:
        return self._labels(mask)

    def part_of_day_label(self, value: str) -> str:
        return self._labels(value)

    def _labels(self, key: int | str) -> str:
        """Topic lists and parts of the day, each translated once per page (a page lists up to
        25 groups, and most share the same few values)."""
        if key not in self._label_cache:
            if isinstance(key, int):
                self._label_cache[key] = self._list([t.label for t in Topic if key & t.value])
            else:
                self._label_cache[key] = PartOfDay(key).label if key in set(PartOfDay) else key
        return self._label_cache[key]


def after_change(site: Site, reset_form: bool = True, target: str | None = None):
    """htmx gets the list with totals (and a fresh form) swapped in place; a plain form the
    Today page again (POST, 303, GET), at `target` when given."""
    if target and not is_htmx():
        return redirect(target, code=303)
    view = TodayView(site, current_user)
    return redirect_or_partial(
        "visits.site_today",
        partial="visits/_saved.html",
        context={"view": view, "reset_form": reset_form},
        site_id=site.id,
    )


@bp.get("/today")
@signed_in
def today():
    site = remembered_site(current_user)
    if site is None:
        return render_template("visits/no_site.html")
    return redirect(url_for("visits.site_today", site_id=site.id))


@bp.get("/sites/<int:site_id>/today")
@signed_in
def site_today(site_id: int):
    site = site_for_user(current_user, site_id)
    records.remember_site(current_user, site)
    view = TodayView(site, current_user)
    return render("visits/today.html", partial="visits/_today_list.html", view=view)


@bp.post("/sites/<int:site_id>/visits")
@signed_in
def create(site_id: int):
    site = site_for_user(current_user, site_id)
    form = NewVisitForm()
    key = form.form_key.data
    if not key or len(key) > 64:
        abort(400)  # the page always sends one: a missing key is a tampered form
    if target := replayed_target(key):
        return after_change(site, target=target)
    if not form.validate_on_submit():
        view = TodayView(site, current_user, form=form)
        headers = {"HX-Retarget": "#record-form", "HX-Reswap": "outerHTML"}
        return (
            render("visits/today.html", partial="visits/_invalid.html", view=view),
            422,
            headers,
        )
    records.add(site, form, by=current_user)
    # A plain form lands with the day's totals at the top of the screen and the confirmation
    # beside the Save button at the bottom: both in view on a portrait tablet.
    target = url_for("visits.site_today", site_id=site.id, _anchor="today-totals")
    claim_form_key(key, current_user.id, target)
    replayed = commit_once(key)
    if replayed is None:
        flash(saved_message(form.visit_date.data))
    return after_change(site, target=replayed or target)


@bp.route("/sites/<int:site_id>/visits/<int:visit_id>/edit", methods=["GET", "POST"])
@signed_in
def edit(site_id: int, visit_id: int):
    site = site_for_user(current_user, site_id)
    visit = own_visit_of_today(site, visit_id, current_user)
    form = EditVisitForm(data=None if request.method == "POST" else form_data(visit))
    if form.validate_on_submit():
        records.update(visit, form)
        db.session.commit()
        flash(_("Ändringen är sparad."))
        return redirect(url_for("visits.site_today", site_id=site.id), code=303)
    view = TodayView(site, current_user, form=form)
    return render("visits/edit.html", view=view, visit=visit), form_status(form)


@bp.post("/sites/<int:site_id>/visits/<int:visit_id>/delete")
@signed_in
def delete(site_id: int, visit_id: int):
    site = site_for_user(current_user, site_id)
    visit = own_visit_of_today(site, visit_id, current_user)
    records.remove(visit)
    db.session.commit()
    flash(_("Besöket är borttaget."))
    return after_change(site, reset_form=False)


@bp.get("/sites/<int:site_id>/week")
@signed_in
def week(site_id: int):
    site = site_for_user(current_user, site_id)
    today_ = local_today()
    day = request.args.get("week", type=date.fromisoformat) or today_
    if not EARLIEST_WEEK <= day <= today_:  # nothing recorded there; also keeps date maths in range
        day = today_
    monday = day - timedelta(days=day.weekday())
    rows, totals = week_rows(site.id, monday)
    view = TodayView(site, current_user)
    return render_template(
        "visits/week.html",
        view=view,
        rows=rows,
        totals=totals,
        monday=monday,
        week_number=monday.isocalendar().week,
        previous=monday - timedelta(days=7),
        next=monday + timedelta(days=7) if monday + timedelta(days=7) <= today_ else None,
    )
