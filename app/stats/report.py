"""The dashboard's figures as labelled, protected tables: one structure that the page, the
charts and both exports read, so the same cells are hidden everywhere."""

from dataclasses import dataclass, field

from flask_babel import gettext as _

from .. import languages
from ..choices import ADULT_COUNTS, CHILD_COUNTS, Outcome, ReferralStatus, Topic
from . import cache, programme_report, queries
from .periods import Bucket
from .suppression import Cell, TableCounts, protect_share, protect_tables
from .tables import Measure, Row, Section, Table, bucket_label


@dataclass
class Report:
    filters: queries.Filters
    bucket: Bucket
    threshold: int
    figures: list[tuple[str, Cell | Measure]] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)

    def table(self, key: str) -> Table:
        return next(t for t in self.tables if t.key == key)

    def section(self, key: str) -> Section:
        return next(s for s in self.sections if s.key == key)


def build(
    f: queries.Filters,
    bucket: Bucket,
    threshold: int,
    services: list[tuple[int, str]],
    locale: str,
    version: int,
    sites: list[tuple[int, str]] | None = None,
) -> Report:
    """Count everything for `f`, protect it, and label it in the reader's language.
    `version` is the organisation's stats_version: the referral figures are cached by it.
    `sites` names the organisation's sites (read when not given)."""
    visits, visit_buckets = queries.visit_series(f, bucket)
    visit_trend = [(start, counts.get("groups", 0)) for start, counts in visit_buckets.items()]
    v = lambda key: visits.get(key, 0)  # noqa: E731
    language_counts = queries.visit_languages(f)
    counted = cache.referral_figures(f, bucket, threshold, version)
    referrals, by_service = counted.totals, counted.by_service
    interest, referral_trend = counted.interest, counted.trend
    if f.service_id is not None:
        services = [(sid, name) for sid, name in services if sid == f.service_id]

    groups = v("visit_groups")
    adult_counts = tuple(v(c) for c in ADULT_COUNTS)
    child_counts = tuple(v(c) for c in CHILD_COUNTS)
    adults, children = sum(adult_counts), sum(child_counts)
    statuses = list(ReferralStatus)
    outcomes = list(Outcome)
    outcome_counts = tuple(referrals[f"outcome_{o.value}"] for o in outcomes)
    interest_counts = tuple(interest.get(sid, 0) for sid, _name in services)
    counts = [
        TableCounts("adults", adult_counts, adults, "adults"),
        TableCounts("children", child_counts, children, "children"),
        TableCounts("new_returning", (v("new_groups"), v("returning_groups")), groups, "groups"),
        TableCounts("languages", tuple(n for _code, n in language_counts)),
        TableCounts("topics", tuple(v(f"topic_{t.code}") for t in Topic)),
        TableCounts("visit_trend", tuple(n for _d, n in visit_trend), groups, "groups"),
        TableCounts(
            "services",
            tuple(by_service.get(sid, 0) for sid, _name in services),
            referrals["total"],
            "referrals",
        ),
        TableCounts(
            "statuses",
            tuple(referrals[f"status_{s.value}"] for s in statuses),
            referrals["total"],
            "referrals",
            cell_keys=((statuses.index(ReferralStatus.CLOSED), "closed"),),
        ),
        TableCounts("outcomes", outcome_counts, sum(outcome_counts), "closed"),
        TableCounts(
            "referral_trend",
            tuple(n for _d, n in referral_trend),
            referrals["total"],
            "referrals",
        ),
        TableCounts("interest", interest_counts, sum(interest_counts), "interest"),
    ]
    protected = protect_tables(counts, threshold)
    cells = {key: value for key, value in protected.tables.items()}

    def table(key, title, label_header, value_header, labels, note=None) -> Table:
        row_cells, total = cells[key]
        rows = [Row(label, cell) for label, cell in zip(labels, row_cells, strict=True)]
        return Table(key, title, label_header, value_header, rows, total, note)

    period_header = _("Vecka") if bucket is Bucket.WEEK else _("Månad")
    tables = [
        table(
            "new_returning",
            _("Besöksgrupper, nya och återkommande"),
            _("Grupp"),
            _("Antal grupper"),
            [_("Nya"), _("Återkommande")],
        ),
        table(
            "adults",
            _("Vuxna efter kön"),
            _("Kön"),
            _("Antal vuxna"),
            [c.label for c in ADULT_COUNTS],
        ),
        table(
            "children",
            _("Barn efter ålder"),
            _("Ålder"),
            _("Antal barn"),
            [c.label for c in CHILD_COUNTS],
        ),
        table(
            "languages",
            _("Språk i besöksgrupperna"),
            _("Språk"),
            _("Antal grupper"),
            [languages.name(code, locale, standalone=True) for code, _n in language_counts],
            _("En grupp kan tala flera språk."),
        ),
        table(
            "topics",
            _("Ämnen som togs upp"),
            _("Ämne"),
            _("Antal grupper"),
            [t.label for t in Topic],
            _("En grupp kan ta upp flera ämnen."),
        ),
        table(
            "visit_trend",
            _("Besöksgrupper över tid"),
            period_header,
            _("Antal grupper"),
            [bucket_label(d, bucket) for d, _n in visit_trend],
        ),
        table(
            "services",
            _("Hänvisningar per tjänst"),
            _("Tjänst"),
            _("Antal hänvisningar"),
            [name for _sid, name in services],
        ),
        table(
            "statuses",
            _("Hänvisningar per status"),
            _("Status"),
            _("Antal hänvisningar"),
            [s.label for s in statuses],
        ),
        table(
            "outcomes",
            _("Utfall av avslutade hänvisningar"),
            _("Utfall"),
            _("Antal hänvisningar"),
            [o.label for o in outcomes],
        ),
        table(
            "referral_trend",
            _("Hänvisningar över tid"),
            period_header,
            _("Antal hänvisningar"),
            [bucket_label(d, bucket) for d, _n in referral_trend],
        ),
        table(
            "interest",
            _("Intresse utan samtycke per tjänst"),
            _("Tjänst"),
            _("Antal tillfällen"),
            [name for _sid, name in services],
            _("Besökare som ville veta mer men inte lämnade samtycke."),
        ),
    ]

    started = cells["outcomes"][0][outcomes.index(Outcome.STARTED)]
    closed = cells["statuses"][0][statuses.index(ReferralStatus.CLOSED)]
    share = Measure(protect_share(started, closed), "percent", closed.value > 0)
    first_n = referrals["with_first_contact"]
    outcome_n = referrals["with_closed_at"]
    first_contact = Measure(counted.median_first_contact, "days", first_n > 0)
    to_outcome = Measure(counted.median_to_outcome, "days", outcome_n > 0)
    figures = [
        (_("Besöksgrupper"), protected.figure("groups", groups)),
        (_("Vuxna"), protected.figure("adults", adults)),
        (_("Barn"), protected.figure("children", children)),
        (_("Hänvisningar"), protected.figure("referrals", referrals["total"])),
        (_("Andel som började (av avslutade)"), share),
        (_("Mediandagar till första kontakt"), first_contact),
        (_("Mediandagar till utfall"), to_outcome),
        (_("Intresse utan samtycke"), protected.figure("interest", sum(interest_counts))),
    ]
    if sites is None:
        sites = queries.organisation_sites(f.organisation_id)
    programme = programme_report.build(f, bucket, threshold, locale, sites, visits, visit_buckets)
    tables.append(programme.cancellations)
    return Report(f, bucket, threshold, figures, tables, programme.sections)
