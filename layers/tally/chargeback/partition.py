"""The chargeback arithmetic, on plain values: owners' month figures -> units that partition
the organisation, to the cent (exactly: every split hands its remainder to someone).

Rules (docs/user-guide.md, "Chargeback"):
- a statement is in cents: each owner's month total (and the unallocated cost) is first
  rounded to the cent so that together they make the organisation's total rounded to the cent
  (each is rounded down, and the cents this leaves go to the largest remainders); so every
  figure below is in cents and every sum is exact;
- a person's cost goes to their teams, split equally (to the cent, rounded toward zero; the
  remainder to the first team by id); a person in no team is on the "no team" line;
- a team-owned resource (owner ``team:<id>``) is that team's; one of a team that no longer
  exists is on the "no team" line, so it is still counted;
- a department carries its own members and resources and every team whose nearest
  department above it is this one; teams under no department form the "(none)" unit;
- a cost center carries the teams that name it (a team's own cost center; it is not inherited);
  teams without one form the "(none)" unit;
- the unallocated cost is either its own line (separate) or spread over the units and the "no
  team" line in proportion to their totals (proportional): each gets its share rounded toward
  zero to the cent, the remaining cents go one by one to the largest, and a sub-cent rest to the
  largest. Only positive totals take part; when none is positive it stays a line of its own.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_FLOOR, Decimal

from tally.chargeback.model import (
    NO_FIGURES,
    NO_TEAM,
    NO_UNIT,
    ZERO,
    Chargeback,
    ChargebackUnit,
    Figures,
    GroupBy,
    UnallocatedRule,
)
from tally.models import Metric
from tally.money import CENT, to_cents
from tally.org.model import Team, TeamKind, team_of_owner


@dataclass(frozen=True)
class OwnerMonth:
    """One owner's month in one currency: its total and the part of it from split assignments."""

    total: Decimal
    shared: Decimal = ZERO

    @property
    def figures(self) -> Figures:
        return Figures(allocated=self.total - self.shared, shared=self.shared)


def round_to_cents(values: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """Each value to the cent so that they add up to their exact sum rounded to the cent:
    rounded down, then a cent more for the largest remainders (ties by key)."""
    floors = {k: v.quantize(CENT, rounding=ROUND_FLOOR) for k, v in values.items()}
    target = to_cents(sum(values.values(), ZERO))
    missing = int((target - sum(floors.values(), ZERO)) / CENT)  # 0 <= missing <= len(values)
    for key in sorted(values, key=lambda k: (floors[k] - values[k], k))[:missing]:
        floors[key] += CENT
    return floors


def _in_cents(
    owners: Mapping[str, Mapping[str, OwnerMonth]], unallocated: Mapping[str, Decimal]
) -> tuple[dict[str, dict[str, OwnerMonth]], dict[str, Decimal]]:
    """``owners`` and ``unallocated`` in cents, per currency by ``round_to_cents`` (the
    unallocated cost under a key no owner id takes); each owner's shared part rounded to the
    cent on its own (its allocated part is the rest)."""
    rest = "\x00unallocated"
    currencies = {c for m in owners.values() for c in m} | set(unallocated)
    rounded: dict[str, dict[str, OwnerMonth]] = defaultdict(dict)
    left: dict[str, Decimal] = {}
    for currency in currencies:
        values = {o: m[currency].total for o, m in owners.items() if currency in m}
        if currency in unallocated:
            values[rest] = unallocated[currency]
        for key, cents in round_to_cents(values).items():
            if key == rest:
                left[currency] = cents
            else:
                shared = to_cents(owners[key][currency].shared)
                rounded[key][currency] = OwnerMonth(cents, shared)
    return rounded, left


def split_equally(amount: Decimal, parts: int) -> list[Decimal]:
    """``amount`` in ``parts`` equal pieces rounded toward zero to the cent; the first takes
    the remainder, so the pieces add up to ``amount`` exactly."""
    if parts < 1:
        raise ValueError("split into at least one part")
    piece = (amount / parts).quantize(CENT, rounding=ROUND_DOWN)
    return [amount - piece * (parts - 1), *([piece] * (parts - 1))]


def _split_figures(figures: Figures, parts: int) -> list[Figures]:
    allocated = split_equally(figures.allocated, parts)
    shared = split_equally(figures.shared, parts)
    return [Figures(a, s) for a, s in zip(allocated, shared, strict=True)]


def distribute(amount: Decimal, weights: Sequence[tuple[str, Decimal]]) -> dict[str, Decimal]:
    """``amount`` over the keys in proportion to their positive weights (see the module
    docstring); empty when no weight is positive. The parts add up to ``amount`` exactly."""
    takers = [(key, w) for key, w in weights if w > 0]
    if not takers or not amount:
        return {}
    whole = sum((w for _, w in takers), ZERO)
    parts = {key: (amount * w / whole).quantize(CENT, rounding=ROUND_DOWN) for key, w in takers}
    largest = [key for key, _ in sorted(takers, key=lambda kw: (-kw[1], kw[0]))]
    rest = amount - sum(parts.values(), ZERO)
    step = CENT if rest > 0 else -CENT
    n = 0
    while abs(rest) >= CENT:
        parts[largest[n % len(largest)]] += step
        rest -= step
        n += 1
    parts[largest[0]] += rest  # below a cent: the storage precision's tail
    return parts


def _department_of(team_id: str, teams: Mapping[str, Team]) -> str | None:
    seen: set[str] = set()
    current: str | None = team_id
    while current is not None and current in teams and current not in seen:
        seen.add(current)
        if teams[current].kind is TeamKind.DEPARTMENT:
            return current
        current = teams[current].parent_id
    return None


def _unit_of(team: Team, group_by: GroupBy, teams: Mapping[str, Team]) -> str:
    if group_by is GroupBy.TEAM:
        return team.team_id
    if group_by is GroupBy.DEPARTMENT:
        return _department_of(team.team_id, teams) or NO_UNIT
    return team.cost_center or NO_UNIT


def partition(
    *,
    month: str,
    group_by: GroupBy,
    rule: UnallocatedRule,
    metric: Metric,
    teams: Iterable[Team],
    owners: Mapping[str, Mapping[str, OwnerMonth]],
    unallocated: Mapping[str, Decimal],
    organisation_total: Mapping[str, Decimal],
    final: bool,
) -> Chargeback:
    """The month's chargeback, in cents. ``owners``: owner id (a user or ``team:<id>``) ->
    currency -> its month; ``unallocated`` and ``organisation_total`` per currency, from the
    UNALLOCATED and ORG roll-ups (the allocation's invariant makes the owners plus the
    unallocated add up to the organisation total; the report's is rounded to the cent)."""
    owners, unallocated = _in_cents(owners, unallocated)
    by_id = {t.team_id: t for t in teams}
    memberships: dict[str, list[str]] = defaultdict(list)
    for team in sorted(by_id.values(), key=lambda t: t.team_id):
        for member in team.members:
            memberships[member].append(team.team_id)

    # Each team's figures and people, then each person in no team's.
    team_figures: dict[str, dict[str, Figures]] = defaultdict(lambda: defaultdict(Figures))
    team_people: dict[str, set[str]] = defaultdict(set)
    loose: dict[str, Figures] = defaultdict(Figures)
    loose_people: set[str] = set()
    for owner, months in owners.items():
        owning_team = team_of_owner(owner)
        if owning_team is not None:
            target = team_figures[owning_team] if owning_team in by_id else loose
            for currency, month_figures in months.items():
                target[currency] += month_figures.figures
            continue
        joined = memberships.get(owner)
        if not joined:
            for currency, month_figures in months.items():
                loose[currency] += month_figures.figures
            loose_people.add(owner)
            continue
        for currency, month_figures in months.items():
            pieces = _split_figures(month_figures.figures, len(joined))
            for team_id, piece in zip(joined, pieces, strict=True):
                team_figures[team_id][currency] += piece
        for team_id in joined:
            team_people[team_id].add(owner)

    # Teams into the grouping's units ("(none)" only when some team falls in it).
    used: set[str] = set()
    unit_figures: dict[str, dict[str, Figures]] = defaultdict(lambda: defaultdict(Figures))
    unit_people: dict[str, set[str]] = defaultdict(set)
    for team in by_id.values():
        unit = _unit_of(team, group_by, by_id)
        used.add(unit)
        unit_people[unit] |= team_people[team.team_id]
        for currency, figures in team_figures[team.team_id].items():
            unit_figures[unit][currency] += figures
    unit_ids = _unit_ids(group_by, by_id, used)

    currencies = tuple(
        sorted(
            set(organisation_total)
            | set(unallocated)
            | {c for figures in unit_figures.values() for c in figures}
            | set(loose)
        )
    )
    left: dict[str, Decimal] = {}
    for currency in currencies:
        amount = unallocated.get(currency, ZERO)
        weights = [(u, unit_figures[u].get(currency, NO_FIGURES).total) for u in unit_ids]
        weights.append((NO_TEAM, loose.get(currency, NO_FIGURES).total))
        parts = distribute(amount, weights) if rule is UnallocatedRule.PROPORTIONAL else {}
        for key, part in parts.items():
            target = loose if key == NO_TEAM else unit_figures[key]
            target[currency] += Figures(unallocated=part)
        left[currency] = amount - sum(parts.values(), ZERO)

    def figures_of(raw: Mapping[str, Figures]) -> dict[str, Figures]:
        return {c: raw.get(c, NO_FIGURES) for c in currencies}

    units = tuple(
        _describe(u, group_by, by_id, len(unit_people[u]), figures_of(unit_figures[u]))
        for u in unit_ids
    )
    no_team = ChargebackUnit(
        NO_TEAM, "No team", "noTeam", None, None, len(loose_people), figures_of(loose)
    )
    return Chargeback(
        month=month,
        group_by=group_by,
        rule=rule,
        metric=metric,
        currencies=currencies,
        units=units,
        no_team=no_team,
        unallocated=left,
        organisation_total={c: to_cents(organisation_total.get(c, ZERO)) for c in currencies},
        final=final,
    )


def _unit_ids(group_by: GroupBy, teams: Mapping[str, Team], used: set[str]) -> list[str]:
    """Every unit of the grouping, in a stable order: the teams (or departments) by name and
    id, cost centers by name; the "(none)" unit last, when some team falls in it."""
    if group_by is GroupBy.TEAM:
        ordered = sorted(teams.values(), key=lambda t: (t.name.casefold(), t.team_id))
        return [t.team_id for t in ordered]
    if group_by is GroupBy.DEPARTMENT:
        departments = sorted(
            (t for t in teams.values() if t.kind is TeamKind.DEPARTMENT),
            key=lambda t: (t.name.casefold(), t.team_id),
        )
        ids = [t.team_id for t in departments]
    else:
        ids = sorted({t.cost_center for t in teams.values() if t.cost_center}, key=str.casefold)
    return ids + ([NO_UNIT] if NO_UNIT in used else [])


def _describe(
    unit_id: str,
    group_by: GroupBy,
    teams: Mapping[str, Team],
    people: int,
    figures: dict[str, Figures],
) -> ChargebackUnit:
    if unit_id == NO_UNIT:
        name = "No department" if group_by is GroupBy.DEPARTMENT else "No cost center"
        return ChargebackUnit(unit_id, name, "none", None, None, people, figures)
    if group_by is GroupBy.COST_CENTER:
        return ChargebackUnit(unit_id, unit_id, "costCenter", None, unit_id, people, figures)
    team = teams[unit_id]
    return ChargebackUnit(
        unit_id, team.name, team.kind.value, team.parent_id, team.cost_center, people, figures
    )
