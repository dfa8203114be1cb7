"""Commitment utilisation and coverage from a FOCUS export's commitment columns, for an
organisation whose cost source is an export (``focus``, or ``athena`` over the same files):
Cost Explorer may have nothing to say for it, and the export says it all.

Two steps, both pure:

* ``uses_of(lines)``: a read's lines as **uses**, the facts the figures need, summed per day,
  commitment (or none), service, currency and status. Only ``Usage`` lines count:

  - ``used``: usage with a ``CommitmentDiscountId`` and ``CommitmentDiscountStatus = Used``
    (a line without a status counts as used, as amortisation reads it);
  - ``unused``: usage with ``CommitmentDiscountStatus = Unused`` (the part of a commitment
    nobody used, on the commitment's own line);
  - ``on-demand``: usage with no ``CommitmentDiscountId`` (nothing covered it).

  Purchases (a commitment's fee, or its amortised shares), tax, credits, refunds and
  adjustments are not usage and are left out. The amount is ``EffectiveCost``.

* ``figures(uses)``: per period (``tally.calendar``: the organisation's periods), currency and
  kind, and per commitment:

  - **utilisation** = used / (used + unused), in ``EffectiveCost``: what the consumption
    cost at the commitment's rate over everything the commitment cost that period. FOCUS 1.2
    defines utilisation on ``CommitmentDiscountQuantity`` (Used over Used + Unused usage rows,
    purchases excluded); per commitment the two ratios agree (one commitment, one rate per
    unit), and cost is the only measure that adds up across commitments of different units
    (hours of different instance sizes, dollars of spend), so a kind's figure is in cost too.
    It is Cost Explorer's own basis (Savings Plans: committed spend; reservations: amortised
    fee).
  - **coverage** of a kind = usage covered by that kind / **eligible usage**, where eligible
    usage is, in the same period and currency, the usage covered by that kind plus the
    on-demand usage **of the services that kind covered something of** in that period.
    The export names no "eligible" flag; a service a Savings Plan (or a reservation) actually
    discounted that period is one it applies to, and its uncovered usage is what more of that
    commitment would have covered. Usage the other kind covered is not a candidate (it is
    covered already). ``on_demand_cost`` is that uncovered eligible usage. Amounts are
    ``EffectiveCost`` (what was paid), so covered usage counts at its discounted rate: the
    figure reads "the share of eligible spend that went through commitments".

* **Kind** of a commitment: from its id (AWS ARNs: ``...:savingsplans:...`` is a Savings
  Plan, anything else a reservation), as the line keeps no ``CommitmentDiscountType``.
* Ratios are percentages to two places (a ratio to four), rounded half-even; a figure with
  nothing to divide by (no commitment cost, no eligible usage) is left out rather than
  invented. Currencies are never mixed: every figure is of one currency.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Literal

from tally import calendar
from tally.commitments.amortise import USAGE, is_unused, is_used
from tally.commitments.model import Kind
from tally.models import CostLine
from tally.money import ZERO
from tally.sources import CostFetch, FetchLog

SOURCE = "focus"
# The sources whose lines carry the FOCUS commitment columns (a file, or Athena over files).
FOCUS_SOURCES = frozenset({"focus", "athena"})
PERCENT = Decimal("0.01")
HUNDRED = Decimal("100")

Status = Literal["used", "unused", "on-demand"]


def kind_of(commitment_id: str) -> Kind:
    """A commitment's kind from its id: a Savings Plan's ARN names the ``savingsplans``
    service; a reservation's names its own (``ec2``, ``rds``, ...)."""
    return "savings-plan" if ":savingsplans:" in commitment_id.lower() else "reservation"


@dataclass(frozen=True)
class CommitmentUse:
    """Usage of one day, service and currency, summed: covered by ``commitment_id``
    (``used``), that commitment's unused part (``unused``), or nothing's (``on-demand``,
    ``commitment_id`` None)."""

    day: date
    commitment_id: str | None
    service: str
    currency: str
    status: Status
    cost: Decimal  # EffectiveCost

    @property
    def kind(self) -> Kind | None:
        return kind_of(self.commitment_id) if self.commitment_id else None


def _status(line: CostLine) -> Status | None:
    if line.charge_category != USAGE:
        return None
    if not line.commitment_id:
        return "on-demand"
    if is_used(line):
        return "used"
    if is_unused(line):
        return "unused"
    return None  # a status FOCUS does not define: not counted


class UseTally:
    """Sums lines into uses as they stream past: memory grows with the days, commitments and
    services read, not with the lines."""

    def __init__(self) -> None:
        self._sums: dict[tuple[date, str, str, str, str], Decimal] = defaultdict(Decimal)

    def offer(self, line: CostLine) -> None:
        status = _status(line)
        if status is not None:
            key = (line.day, line.commitment_id or "", line.service, line.currency, status)
            self._sums[key] += line.effective_cost

    def uses(self, days: frozenset[date] | None = None) -> list[CommitmentUse]:
        """The uses summed so far (of ``days`` only, when given), in key order."""
        return [
            CommitmentUse(day, commitment or None, service, currency, status, cost)  # type: ignore[arg-type]
            for (day, commitment, service, currency, status), cost in sorted(self._sums.items())
            if days is None or day in days
        ]


def uses_of(lines: Iterable[CostLine]) -> list[CommitmentUse]:
    """``lines`` as uses (see the module docstring), in key order."""
    tally = UseTally()
    for line in lines:
        tally.offer(line)
    return tally.uses()


@dataclass(frozen=True)
class UtilisationFigure:
    """How much of the commitments of one kind (or of one commitment: ``commitment_id``) a
    period used; ``used`` + ``unused`` = ``commitment``."""

    kind: Kind
    month: str  # the period's name (tally.calendar)
    percent: Decimal
    commitment: Decimal
    used: Decimal
    unused: Decimal
    currency: str
    commitment_id: str | None = None


@dataclass(frozen=True)
class CoverageFigure:
    """How much of the usage eligible for one kind a period covered: ``covered`` went
    through the kind's commitments, ``on_demand_cost`` did not."""

    kind: Kind
    month: str
    percent: Decimal
    covered: Decimal
    on_demand_cost: Decimal
    currency: str


@dataclass(frozen=True)
class FocusFigures:
    """Utilisation (per kind and per commitment) and coverage (per kind), per period and
    currency, oldest period first."""

    utilisation: tuple[UtilisationFigure, ...] = ()
    by_commitment: tuple[UtilisationFigure, ...] = ()
    coverage: tuple[CoverageFigure, ...] = ()


def ratio_percent(part: Decimal, whole: Decimal) -> Decimal:
    """``part`` over ``whole`` as a percentage to two places (a ratio to four), half-even."""
    return (part * HUNDRED / whole).quantize(PERCENT, rounding=ROUND_HALF_EVEN)


@dataclass
class _Sums:
    used: Decimal = ZERO
    unused: Decimal = ZERO

    def figure(
        self, kind: Kind, month: str, currency: str, commitment_id: str | None = None
    ) -> UtilisationFigure | None:
        whole = self.used + self.unused
        if whole <= 0:
            return None  # nothing committed to divide by: no figure rather than a made-up one
        return UtilisationFigure(
            kind,
            month,
            ratio_percent(self.used, whole),
            whole,
            self.used,
            self.unused,
            currency,
            commitment_id,
        )


def figures(uses: Iterable[CommitmentUse]) -> FocusFigures:
    """Utilisation and coverage of ``uses`` (see the module docstring)."""
    per_commitment: dict[tuple[str, str, str], _Sums] = defaultdict(_Sums)
    # (period, currency, kind) -> the services that kind covered -> covered cost
    covered: dict[tuple[str, str, Kind], dict[str, Decimal]] = defaultdict(
        lambda: defaultdict(Decimal)
    )
    on_demand: dict[tuple[str, str], dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for use in uses:
        month = calendar.month_of(use.day)
        if use.commitment_id is None:
            on_demand[(month, use.currency)][use.service] += use.cost
            continue
        sums = per_commitment[(month, use.currency, use.commitment_id)]
        if use.status == "used":
            sums.used += use.cost
            covered[(month, use.currency, kind_of(use.commitment_id))][use.service] += use.cost
        else:
            sums.unused += use.cost

    by_commitment: list[UtilisationFigure] = []
    by_kind: dict[tuple[str, str, Kind], _Sums] = defaultdict(_Sums)
    for (month, currency, commitment_id), sums in sorted(per_commitment.items()):
        kind = kind_of(commitment_id)
        total = by_kind[(month, currency, kind)]
        total.used += sums.used
        total.unused += sums.unused
        one = sums.figure(kind, month, currency, commitment_id)
        if one is not None:
            by_commitment.append(one)
    utilisation = [
        figure
        for (month, currency, kind), sums in sorted(by_kind.items())
        if (figure := sums.figure(kind, month, currency)) is not None
    ]
    coverage: list[CoverageFigure] = []
    for (month, currency, kind), services in sorted(covered.items()):
        covered_cost = sum(services.values(), ZERO)
        uncovered = sum((on_demand[(month, currency)].get(s, ZERO) for s in services), ZERO)
        if covered_cost + uncovered > 0:
            coverage.append(
                CoverageFigure(
                    kind,
                    month,
                    ratio_percent(covered_cost, covered_cost + uncovered),
                    covered_cost,
                    uncovered,
                    currency,
                )
            )
    return FocusFigures(tuple(utilisation), tuple(by_commitment), tuple(coverage))


Record = Callable[[frozenset[date], list[CommitmentUse]], None]


def recording_uses(fetch: CostFetch, record: Record) -> CostFetch:
    """``fetch`` as it was, that hands ``record`` the uses of the days it covered once the
    read is over (a read that fails records nothing). Sources without the FOCUS commitment
    columns (Cost Explorer) are passed through untouched."""
    if fetch.source_name not in FOCUS_SOURCES:
        return fetch

    def produce(log: FetchLog) -> Iterator[CostLine]:
        tally = UseTally()
        for line in fetch:
            tally.offer(line)
            yield line
        covered = fetch.covered_days
        estimated = fetch.estimated_days
        for day in covered:
            log.returned(day, estimated=day in estimated)
        log.unavailable_days.update(fetch.unavailable_days)
        log.requests = fetch.requests
        record(covered, tally.uses(covered))

    return CostFetch(fetch.source_name, fetch.start, fetch.end, produce)
