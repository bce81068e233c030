"""(area: stats) The programme and outreach sections of the dashboard: counted by
app.stats.programme, protected by the same rule as every other count of people, labelled in
the reader's language.

What is protected: every count of people (adults, children, new people, conversations, people
informed, groups). Counts of sessions (held, cancelled, and why) are shown as they are: the
programme is public, every session and the reason it was cancelled are on the visitors' pages,
and a session is not a person. A column's total is the same number in the kind, site and time
tables and in the headline figure, so it is hidden in all of them as soon as one table had to
hide it (`total_key`), as the visit tables do.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _

from .. import languages
from ..choices import OutreachPlace, SessionChange
from ..programme.queries import kind_labels
from ..workdays import local_today
from . import programme, queries
from .periods import Bucket
from .suppression import Cell, Mark, TableCounts, protect_tables
from .tables import Grid, GridRow, Measure, Row, Section, Table, bucket_label

PEOPLE = programme.PEOPLE
DIMENSIONS = ("kind", "site", "time")


@dataclass
class ProgrammeReport:
    sections: list[Section]
    cancellations: Table


def _exact(value: int, threshold: int) -> Cell:
    """A count of sessions: not about a person, shown as it is."""
    return Cell(value, Mark.SHOWN, threshold)


def build(
    f: queries.Filters,
    bucket: Bucket,
    threshold: int,
    locale: str,
    sites: list[tuple[int, str]],
    visits: dict[str, int],
    visit_buckets: dict[date, dict[str, int]],
) -> ProgrammeReport:
    """The programme's and outreach's figures for `f` (two statements, plus the kinds'
    names); `visits` and `visit_buckets` are the visit summaries already read."""
    groups, spoken = programme.session_figures(f, bucket, local_today())
    informed_rows = programme.informed(f, bucket)
    labels = kind_labels(f.organisation_id, locale)
    buckets = queries.buckets_in(f.period, bucket)

    by: dict[str, dict] = {dim: {} for dim in DIMENSIONS}
    totals: Counter = Counter()
    reasons: Counter = Counter()
    for g in groups:
        figures = Counter(
            held=g.sessions if g.held else 0,
            cancelled=g.sessions if g.cancelled else 0,
            with_new=g.with_new,
            **{name: getattr(g, name) for name in PEOPLE},
        )
        for dim, key in zip(DIMENSIONS, (g.kind, g.site_id, g.bucket), strict=True):
            by[dim].setdefault(key, Counter()).update(figures)
        totals.update(figures)
        if g.cancelled:
            reasons[g.reason] += g.sessions

    kinds = [k for k in labels if k in by["kind"]] + sorted(
        k for k in by["kind"] if k not in labels
    )
    site_rows = [(sid, name) for sid, name in sites if sid in by["site"]]
    keys = {"kind": kinds, "site": [sid for sid, _name in site_rows], "time": buckets}

    informed_by_bucket: Counter = Counter()
    informed_by_place: Counter = Counter()
    for start, place, people in informed_rows:
        informed_by_bucket[start] += people
        informed_by_place[place] += people
    informed_total = sum(informed_by_bucket.values())
    places = list(OutreachPlace)
    after = tuple(visit_buckets.get(b, {}).get("after_outreach_groups", 0) for b in buckets)
    place_visits = tuple(visits.get(f"outreach_{p.value}", 0) for p in places)

    counts = [
        TableCounts(
            f"{dim}_{name}",
            tuple(by[dim].get(key, Counter())[name] for key in keys[dim]),
            totals[name],
            f"session_{name}",
        )
        for dim in DIMENSIONS
        for name in PEOPLE
    ]
    counts += [
        TableCounts(f"language_{name}", tuple(getattr(lg, name) for lg in spoken))
        for name in PEOPLE
    ]
    counts += [
        TableCounts(
            "outreach_informed",
            tuple(informed_by_bucket[b] for b in buckets),
            informed_total,
            "informed",
        ),
        TableCounts("outreach_after", after, sum(after), "after_outreach"),
        TableCounts(
            "places_informed",
            tuple(informed_by_place[p.value] for p in places),
            informed_total,
            "informed",
        ),
        TableCounts("places_visits", place_visits, sum(place_visits), "outreach_visits"),
    ]
    protected = protect_tables(counts, threshold)
    cells = protected.tables
    exact = lambda value: _exact(value, threshold)  # noqa: E731

    session_headers = [
        _("Hölls"),
        _("Inställda"),
        _("Vuxna"),
        _("Barn"),
        _("Nya besökare"),
        _("Enskilda samtal"),
    ]

    def session_grid(dim: str, title: str, label_header: str, row_labels: list[str]) -> Grid:
        rows = []
        for i, (label, key) in enumerate(zip(row_labels, keys[dim], strict=True)):
            counted = by[dim].get(key, Counter())
            people = [cells[f"{dim}_{name}"][0][i] for name in PEOPLE]
            rows.append(
                GridRow(label, [exact(counted["held"]), exact(counted["cancelled"])] + people)
            )
        total_cells = [exact(totals["held"]), exact(totals["cancelled"])]
        total_cells += [cells[f"{dim}_{name}"][1] for name in PEOPLE]
        return Grid(f"sessions_by_{dim}", title, label_header, session_headers, rows, total_cells)

    period_header = _("Vecka") if bucket is Bucket.WEEK else _("Månad")
    language_grid = Grid(
        "sessions_by_language",
        _("Tillfällen och deltagare per språk"),
        _("Språk"),
        [_("Tillfällen som hölls"), *session_headers[2:]],
        [
            GridRow(
                languages.name(lg.code, locale, standalone=True),
                [exact(lg.sessions)] + [cells[f"language_{name}"][0][i] for name in PEOPLE],
            )
            for i, lg in enumerate(spoken)
        ],
        note=_("Ett tillfälle räknas under varje språk som talades där."),
    )
    held = totals["held"]
    share = Measure(totals["with_new"] / held if held >= threshold else None, "percent", held > 0)
    programme_section = Section(
        "programme",
        _("Programmet"),
        [
            (_("Tillfällen som hölls"), exact(held)),
            (_("Inställda tillfällen"), exact(totals["cancelled"])),
            (_("Vuxna vid tillfällena"), protected.figure("session_adults", totals["adults"])),
            (_("Barn vid tillfällena"), protected.figure("session_children", totals["children"])),
            (
                _("Nya besökare vid tillfällena"),
                protected.figure("session_new_people", totals["new_people"]),
            ),
            (
                _("Enskilda samtal"),
                protected.figure("session_conversations", totals["conversations"]),
            ),
            (_("Andel hållna tillfällen med minst en ny besökare"), share),
        ],
        [
            session_grid(
                "kind",
                _("Tillfällen och deltagare per typ av aktivitet"),
                _("Typ av aktivitet"),
                [labels.get(k, k) for k in kinds],
            ),
            session_grid(
                "site",
                _("Tillfällen och deltagare per plats"),
                _("Plats"),
                [name for _sid, name in site_rows],
            ),
            session_grid(
                "time",
                _("Tillfällen och deltagare över tid"),
                period_header,
                [bucket_label(b, bucket) for b in buckets],
            ),
            language_grid,
        ],
        _(
            "Deltagare räknas vid tillfällen som har hållits (inte inställda, senast i dag), "
            "med besök som räknats till tillfället. Antalet tillfällen visas alltid: "
            "programmet är offentligt."
        ),
    )
    outreach_section = Section(
        "outreach",
        _("Uppsökande arbete"),
        [
            (_("Informerade personer"), protected.figure("informed", informed_total)),
            (
                _("Nya grupper som kom efter att vi informerat"),
                protected.figure("after_outreach", sum(after)),
            ),
            (
                _("Besök på andra platser"),
                protected.figure("outreach_visits", sum(place_visits)),
            ),
        ],
        [
            Grid(
                "outreach_by_time",
                _("Informerade och besök efter information"),
                period_header,
                [_("Informerade personer"), _("Nya grupper som kom efter information")],
                [
                    GridRow(
                        bucket_label(b, bucket),
                        [cells["outreach_informed"][0][i], cells["outreach_after"][0][i]],
                    )
                    for i, b in enumerate(buckets)
                ],
                [cells["outreach_informed"][1], cells["outreach_after"][1]],
            ),
            Grid(
                "outreach_by_place",
                _("Uppsökande arbete per plats"),
                _("Plats"),
                [_("Informerade personer"), _("Besöksgrupper där")],
                [
                    GridRow(p.label, [cells["places_informed"][0][i], cells["places_visits"][0][i]])
                    for i, p in enumerate(places)
                ],
                [cells["places_informed"][1], cells["places_visits"][1]],
            ),
        ],
        _(
            "Informerade är personer som fick veta om öppna förskolan någon annanstans. "
            "Grupper som kom efter information är nya besöksgrupper som sa att de hörde om oss "
            "så."
        ),
    )
    cancellations = Table(
        "cancellations",
        _("Inställda tillfällen per orsak"),
        _("Orsak"),
        _("Antal tillfällen"),
        [Row(reason.label, exact(reasons[reason.value])) for reason in SessionChange],
        exact(totals["cancelled"]),
    )
    return ProgrammeReport([programme_section, outreach_section], cancellations)
