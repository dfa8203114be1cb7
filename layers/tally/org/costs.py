"""A team's costs: the allocated costs of its people plus the resources assigned to the team
itself (owner ``team_owner(team_id)``), and the same for every team under it. A cost center's
costs are the same sum over the teams that name it (not the teams under those: a cost center
is a team's own field, never inherited, as in the chargeback).

Counted once: a person in several teams of a subtree (a department's two teams, or two teams
of one cost center) is one person of it, and a team's own resources belong to that one team.
So a department's total is the cost of the union of its teams' people plus its teams' own
resources, never the sum of its teams' totals (those may share people). Currencies are never
added together: each figure is per currency, as in every roll-up.

Read from the monthly roll-ups of each owner, never from the cost records and never by Scan:
one BatchGetItem for every (owner, month) pair of the subtree (DynamoDB takes 100 keys a call,
so a subtree of P people and T teams over M months costs ceil((P + T) * M / 100) calls, each
fetching whole roll-ups of up to a few tens of KB: a 1,000-person department's month is about
ten calls).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from tally.access import allows, require
from tally.authz import Target
from tally.calendar import first_day, last_day, month_of, previous_month
from tally.errors import Invalid, NotFound
from tally.models import (
    ZERO_AMOUNTS,
    Amounts,
    Assignment,
    Metric,
    MonthlyRollup,
    ResourceCost,
    RollupSection,
)
from tally.org.model import Team, cost_center_owner, team_owner
from tally.rates import ConvertedSet, Converter
from tally.rollups import TOP_RESOURCES

if TYPE_CHECKING:
    from tally.forecast.result import Forecast
    from tally.reports.summary import Summary
    from tally.store.rollups import RollupStore
    from tally.view import View

CENT = Decimal("0.01")
OWN_RESOURCES = 100  # listed on a team summary, in one query
NO_SUCH_TEAM = "no such team"
NO_SUCH_COST_CENTER = "no such cost center"


@dataclass(frozen=True)
class GroupScope(ABC):
    """Whose costs a group's figures are (a team's or a cost center's): its teams, the union
    of their members, and the owner ids of those teams (for the resources assigned to them).
    Its budget, summary and alerts are the same machinery for either kind."""

    teams: tuple[Team, ...]
    people: frozenset[str]

    @property
    @abstractmethod
    def owner(self) -> str:
        """The owner id its budget, alert ledger and combined roll-up are under."""

    @property
    @abstractmethod
    def name(self) -> str:
        """How messages name it."""

    @property
    @abstractmethod
    def managers(self) -> frozenset[str]:
        """Who its budget's alerts go to."""

    @property
    def team_owners(self) -> tuple[str, ...]:
        return tuple(team_owner(t.team_id) for t in self.teams)

    @property
    def owners(self) -> list[str]:
        """Every owner id whose roll-ups make the group's: each person once, each team once."""
        return sorted(self.people) + list(self.team_owners)


@dataclass(frozen=True)
class TeamScope(GroupScope):
    """A team and every team under it (``teams``: the team first, then the others by id)."""

    team: Team

    @property
    def owner(self) -> str:
        return team_owner(self.team.team_id)

    @property
    def name(self) -> str:
        return self.team.name

    @property
    def managers(self) -> frozenset[str]:
        return self.team.managers  # the team's own: a sub-team's managers budget their own


@dataclass(frozen=True)
class CostCenterScope(GroupScope):
    """A cost center: the teams that name it (``teams``, by id), however they nest."""

    code: str

    @property
    def owner(self) -> str:
        return cost_center_owner(self.code)

    @property
    def name(self) -> str:
        return cost_center_name(self.code)

    @property
    def managers(self) -> frozenset[str]:
        return frozenset(m for t in self.teams for m in t.managers)


def cost_center_name(code: str) -> str:
    return f"Cost center {code}"


def cost_center_scope(code: str, teams: Mapping[str, Team] | Sequence[Team]) -> CostCenterScope:
    """The scope of cost center ``code`` among ``teams`` (every team): the teams whose own
    ``cost_center`` is ``code`` (exactly, as the chargeback groups them). ``NotFound`` when no
    team names it: a cost center exists only through its teams."""
    every = teams.values() if isinstance(teams, Mapping) else teams
    named = tuple(sorted((t for t in every if t.cost_center == code), key=lambda t: t.team_id))
    if not named:
        raise NotFound(NO_SUCH_COST_CENTER)
    people = frozenset(p for t in named for p in t.members)
    return CostCenterScope(teams=named, people=people, code=code)


def team_scope(team_id: str, teams: Mapping[str, Team]) -> TeamScope:
    """The scope of ``team_id`` among ``teams`` (every team, or at least its subtree).
    ``NotFound`` without such a team; a cycle (refused when saved) stops the walk."""
    team = teams.get(team_id)
    if team is None:
        raise NotFound(NO_SUCH_TEAM)
    children: dict[str, list[str]] = defaultdict(list)
    for other in teams.values():
        if other.parent_id:
            children[other.parent_id].append(other.team_id)
    under: set[str] = set()
    todo = list(children.get(team_id, ()))
    while todo:
        child = todo.pop()
        if child not in under and child != team_id:
            under.add(child)
            todo.extend(children.get(child, ()))
    subtree = (team, *(teams[t] for t in sorted(under)))
    people = frozenset(p for t in subtree for p in t.members)
    return TeamScope(team=team, teams=subtree, people=people)


# --- adding roll-ups -----------------------------------------------------------------------


def _add(into: dict[str, Amounts], more: Mapping[str, Amounts]) -> None:
    for key, amounts in more.items():
        into[key] = into.get(key, ZERO_AMOUNTS) + amounts


def _combine_sections(sections: Sequence[RollupSection]) -> RollupSection:
    totals = ZERO_AMOUNTS
    by_service: dict[str, Amounts] = {}
    by_category: dict[str, Amounts] = {}
    daily: dict[str, Amounts] = {}
    daily_by_service: dict[str, dict[str, Amounts]] = defaultdict(dict)
    daily_by_category: dict[str, dict[str, Amounts]] = defaultdict(dict)
    resources: dict[tuple[str, str], Amounts] = {}
    names: dict[str, str] = {}
    for s in sections:
        totals += s.totals
        _add(by_service, s.by_service)
        _add(by_category, s.by_category)
        _add(daily, s.daily)
        for day, services in s.daily_by_service.items():
            _add(daily_by_service[day], services)
        for day, categories in s.daily_by_category.items():
            _add(daily_by_category[day], categories)
        for r in s.top_resources:
            # Each owner keeps its top resources only: a resource shared by two members is
            # the sum of their shares, one outside every member's top is not listed.
            key = (r.resource_id, r.service)
            resources[key] = resources.get(key, ZERO_AMOUNTS) + r.amounts
            if r.name:
                names[r.resource_id] = r.name
    top = sorted(resources.items(), key=lambda kv: (-kv[1].billed, kv[0]))[:TOP_RESOURCES]
    return RollupSection(
        totals=totals,
        by_service=by_service,
        by_category=by_category,
        daily=dict(sorted(daily.items())),
        daily_by_service=dict(sorted(daily_by_service.items())),
        top_resources=[ResourceCost(rid, svc, a, names.get(rid)) for (rid, svc), a in top],
        daily_by_category=dict(sorted(daily_by_category.items())),
    )


def _quantize(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _bound(
    point: Decimal,
    centres: Sequence[Decimal],
    bounds: Sequence[Decimal],
    sign: int,
    *,
    floor: Decimal = Decimal(0),
) -> Decimal:
    """A bound of a sum of independent forecasts: the point sum moved by the root of the summed
    squares of each part's distance from its point (summing the bounds would assume every part
    errs the same way at once)."""
    squares = sum(((b - c) ** 2 for b, c in zip(bounds, centres, strict=True)), Decimal(0))
    return _quantize(max(floor, point + sign * squares.sqrt()))


def combine_forecasts(parts: Sequence[Forecast]) -> Forecast | None:
    """The forecast of a sum of owners: points and charges added, intervals combined as for
    independent parts (``_bound``). Its model is the parts' when they agree; ``mean`` when any
    spending part has under two weeks of history (so a team's forecast alert waits for every
    spending member's forecast to stand on enough days, as each member's would), and
    ``combined`` for fitted parts of different models."""
    from tally.forecast.result import (
        FALLBACK_MEAN,
        NO_HISTORY,
        DailyForecast,
        Forecast,
        MonthEndProjection,
    )

    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    spending = [f for f in parts if f.month_end.projected_total != 0] or list(parts)
    models = {f.model for f in spending}
    if models == {NO_HISTORY}:
        model = NO_HISTORY
    elif FALLBACK_MEAN in models:
        model = FALLBACK_MEAN
    else:
        fitted = models - {NO_HISTORY}
        model = fitted.pop() if len(fitted) == 1 else "combined"
    ends = [f.month_end for f in parts]
    point = sum((e.projected_total for e in ends), Decimal(0))
    actual = sum((e.actual_to_date for e in ends), Decimal(0))
    categories: dict[str, Decimal] = defaultdict(Decimal)
    for e in ends:
        for name, amount in e.expected_by_category.items():
            categories[name] += amount
    centres = [e.projected_total for e in ends]

    def lower(values: list[Decimal]) -> Decimal:
        return _bound(point, centres, values, -1, floor=actual)

    def upper(values: list[Decimal]) -> Decimal:
        return _bound(point, centres, values, 1)

    month_end = MonthEndProjection(
        month=ends[0].month,
        actual_to_date=actual,
        forecast_remainder=sum((e.forecast_remainder for e in ends), Decimal(0)),
        projected_total=point,
        lower80=lower([e.lower80 for e in ends]),
        upper80=upper([e.upper80 for e in ends]),
        lower95=lower([e.lower95 for e in ends]),
        upper95=upper([e.upper95 for e in ends]),
        days_elapsed=max(e.days_elapsed for e in ends),
        days_remaining=min(e.days_remaining for e in ends),
        expected_charges=sum((e.expected_charges for e in ends), Decimal(0)),
        expected_by_category=dict(sorted(categories.items())),
    )
    by_day: dict[date, list[DailyForecast]] = defaultdict(list)
    for f in parts:
        for p in f.daily:
            by_day[p.day].append(p)
    daily = []
    for day, points in sorted(by_day.items()):
        amount = sum((p.amount for p in points), Decimal(0))
        centre = [p.amount for p in points]
        daily.append(
            DailyForecast(
                day,
                amount,
                _bound(amount, centre, [p.lower80 for p in points], -1),
                _bound(amount, centre, [p.upper80 for p in points], 1),
                _bound(amount, centre, [p.lower95 for p in points], -1),
                _bound(amount, centre, [p.upper95 for p in points], 1),
            )
        )
    return Forecast(
        as_of=max(f.as_of for f in parts),
        model=model,
        history_days=min(f.history_days for f in spending),
        month_end=month_end,
        daily=tuple(daily),
    )


def combine_rollups(
    owner: str, month: str, rollups: Sequence[MonthlyRollup]
) -> MonthlyRollup | None:
    """One roll-up of ``owner`` for ``month`` holding the sum of ``rollups`` (of distinct
    owners), per currency; None without any. Restatements stay with each owner (a change of
    one member's closed month is not a change of the team's total as it then was)."""
    if not rollups:
        return None
    by_currency: dict[str, list[RollupSection]] = defaultdict(list)
    forecasts: dict[str, list[Forecast]] = defaultdict(list)
    for r in rollups:
        for currency, section in r.sections.items():
            by_currency[currency].append(section)
        for currency, forecast in (r.forecast or {}).items():
            forecasts[currency].append(forecast)
    combined_forecasts = {c: combine_forecasts(fs) for c, fs in sorted(forecasts.items())}
    return MonthlyRollup(
        owner=owner,
        month=month,
        sections={c: _combine_sections(s) for c, s in sorted(by_currency.items())},
        estimated=any(r.estimated for r in rollups),
        record_count=sum(r.record_count for r in rollups),
        updated_at=max(r.updated_at for r in rollups),
        forecast={c: f for c, f in combined_forecasts.items() if f is not None} or None,
        estimated_days=sorted({d for r in rollups for d in r.estimated_days}),
    )


# --- a team's months -----------------------------------------------------------------------


@dataclass(frozen=True)
class TeamMonth:
    """A group's figures of one month: the sum (``rollup``, owner ``team:<id>`` or
    ``costcenter:<code>``) and its parts, each person's roll-up and the roll-up of each team's
    own resources."""

    scope: GroupScope
    month: str
    rollup: MonthlyRollup | None
    people: Mapping[str, MonthlyRollup] = field(default_factory=dict)
    resources: Mapping[str, MonthlyRollup] = field(default_factory=dict)  # by team owner id

    def total(self, currency: str, metric: Metric) -> Decimal:
        return owner_amount(self.rollup, currency, metric)

    def resources_total(self, currency: str, metric: Metric) -> Decimal:
        return sum((owner_amount(r, currency, metric) for r in self.resources.values()), Decimal(0))


def owner_amount(rollup: MonthlyRollup | None, currency: str, metric: Metric) -> Decimal:
    """An owner's month total in one currency and metric (0 without figures in it)."""
    section = rollup.section(currency) if rollup is not None else None
    return section.totals.amount(metric) if section is not None else Decimal(0)


def team_months(
    rollups: RollupStore, scope: GroupScope, months: Sequence[str]
) -> dict[str, TeamMonth]:
    """The group's (a team's or a cost center's) figures of each of ``months``, from one
    batch read of every owner's roll-ups (module docstring: the cost of a big team)."""
    owners = scope.owners
    found = rollups.get_many_months(owners, months) if owners and months else {}
    team_owners = set(scope.team_owners)
    out: dict[str, TeamMonth] = {}
    for month in months:
        parts = {o: found[(o, month)] for o in owners if (o, month) in found}
        out[month] = TeamMonth(
            scope=scope,
            month=month,
            rollup=combine_rollups(scope.owner, month, list(parts.values())),
            people={o: r for o, r in parts.items() if o not in team_owners},
            resources={o: r for o, r in parts.items() if o in team_owners},
        )
    return out


def team_totals(
    rollups: RollupStore, scope: GroupScope, month: str, metric: Metric
) -> dict[str, Decimal]:
    """The team's total of ``month`` per currency (never summed across currencies)."""
    rollup = team_months(rollups, scope, [month])[month].rollup
    if rollup is None:
        return {}
    return {c: s.totals.amount(metric) for c, s in rollup.sections.items()}


# --- reading teams -------------------------------------------------------------------------


def require_team(view: View, action: str, team_id: str) -> Team:
    """``team_id``'s team once the caller may do ``action`` on it: 403 otherwise, the same for
    a team that does not exist, except to those who may do ``action`` on the whole
    organisation (they could list every team anyway): 404 "no such team" for them."""
    team = view.stores.access.get_team(team_id)  # type: ignore[attr-defined]
    if team is None and allows(view.caller, action, Target.org()):
        raise NotFound(NO_SUCH_TEAM)
    require(view.caller, action, Target.team(team_id))
    if team is None:  # allowed on a team that is not: only by a rule that names no team
        raise NotFound(NO_SUCH_TEAM)
    return team


def team_subject(view: View, action: str, team_id: str) -> str:
    """The owner id of ``team_id`` (``team:<id>``: what a team's budget and its own resources
    are stored under), once the caller may do ``action`` on the team (``require_team``)."""
    return team_owner(require_team(view, action, team_id).team_id)


def require_cost_center(view: View, action: str, code: str) -> CostCenterScope:
    """The scope of cost center ``code`` once the caller may do ``action`` at the organisation
    (a cost center spans teams, so no team's role reaches it): 403 otherwise, the same whether
    it exists or not; 404 "no such cost center" when no team names it. One query of the team
    list (its members are not in the organisation snapshot)."""
    require(view.caller, action, Target.org())
    return cost_center_scope(code, view.stores.access.list_teams())  # type: ignore[attr-defined]


def cost_center_subject(view: View, action: str, code: str) -> str:
    """The owner id of cost center ``code`` (``costcenter:<code>``: what its budget is stored
    under), once the caller may do ``action`` on it (``require_cost_center``)."""
    return require_cost_center(view, action, code).owner


def load_scope(view: View, team: Team) -> TeamScope:
    """The scope of ``team``: whether teams sit under it from the organisation snapshot, and
    the team list (one query) only when some do.

    In the API the snapshot is the one the request's authorization already read (cached in the
    warm container): it holds the whole team tree, about 100 bytes a team, so reading it again
    would cost a 1,000-team organisation 120 KB per summary. Elsewhere it is read once."""
    access = view.stores.access  # type: ignore[attr-defined]
    authorizer = view.caller.authorizer
    snapshot = authorizer.snapshot if authorizer is not None else access.snapshot()
    if not snapshot.descendants(team.team_id):
        return TeamScope(team=team, teams=(team,), people=frozenset(team.members))
    teams = {t.team_id: t for t in access.list_teams()}
    teams[team.team_id] = team
    return team_scope(team.team_id, teams)


# --- the team summary ----------------------------------------------------------------------


@dataclass(frozen=True)
class MemberAmount:
    user_id: str
    username: str | None
    amount: Decimal


@dataclass(frozen=True)
class GroupSummary:
    """The user summary's figures for a group (a team or a cost center) against its budget,
    with whose costs they are: each person's amount (once, however many of its teams they are
    in) and its teams' own resources' amount, in the summary's currency and metric."""

    summary: Summary
    members: list[MemberAmount]
    team_resources: Decimal
    # With a ``quote`` currency: the month's billed figures converted into it day by day,
    # beside the originals (as ``tally.reports.converted`` does for a user's month).
    converted: ConvertedSet | None = field(default=None, kw_only=True)


@dataclass(frozen=True)
class TeamSummary(GroupSummary):
    team: Team
    # The resources assigned to this team itself (not ended; the first OWN_RESOURCES): those
    # of the teams under it are on their own summaries, their cost in ``team_resources``.
    resources: list[Assignment] = field(default_factory=list)


@dataclass(frozen=True)
class CostCenterSummary(GroupSummary):
    scope: CostCenterScope


def _month_param(month: str | None, today: date) -> str:
    current = month_of(today)
    if month is None:
        return current
    if month > current:
        raise Invalid.field("month", f"month cannot be later than the current month {current}")
    return month


def _group_summary(
    view: View, scope: GroupScope, month: str | None, quote: str | None = None
) -> GroupSummary:
    """``month``'s (default: this month's) summary of ``scope`` against its budget; with
    ``quote``, the month converted into it day by day too (``NoRate``, 422 on currency, when a
    day has no rate on or before it)."""
    # tally.reports imports tally.budgets, which imports this module: read it when used.
    from tally.reports.currency import daily_by_currency
    from tally.reports.summary import summarize

    wanted = _month_param(month, view.today)
    previous = previous_month(wanted)
    both = team_months(view.stores.rollups, scope, [previous, wanted])
    rollups = {m: tm.rollup for m, tm in both.items() if tm.rollup is not None}
    budget = view.stores.budgets.get_for_user(scope.owner)
    summary = summarize(view, scope.owner, wanted, rollups, budget)
    this = both[wanted]
    names = view.stores.users.get_many(sorted(scope.people)) if scope.people else {}
    members = [
        MemberAmount(
            user_id=p,
            username=names[p].username if p in names else None,
            amount=owner_amount(this.people.get(p), summary.currency, summary.metric),
        )
        for p in sorted(scope.people)
    ]
    members.sort(key=lambda m: (-m.amount, m.user_id))
    converted = None
    if quote is not None:
        converter = Converter(view.stores.rates, quote, first_day(wanted), last_day(wanted))
        month_rollups = [rollups[wanted]] if wanted in rollups else []
        converted = converter.convert_all(daily_by_currency(month_rollups, view.metric))
    return GroupSummary(
        summary=summary,
        members=members,
        team_resources=this.resources_total(summary.currency, summary.metric),
        converted=converted,
    )


def team_summary(
    view: View, team_id: str, *, month: str | None = None, quote: str | None = None
) -> TeamSummary:
    """``month``'s (default: this month's) summary of a team against the team's budget:
    costs:read on the team (its managers, finance, admins; a member reads their own team's).
    With ``quote``, the month converted into that currency day by day, beside the originals."""
    scope = load_scope(view, require_team(view, "costs:read", team_id))
    figures = _group_summary(view, scope, month, quote)
    return TeamSummary(
        summary=figures.summary,
        members=figures.members,
        team_resources=figures.team_resources,
        converted=figures.converted,
        team=scope.team,
        resources=view.stores.assignments.list_for_user(scope.owner, OWN_RESOURCES).items,
    )


def cost_center_summary(view: View, code: str, *, month: str | None = None) -> CostCenterSummary:
    """``month``'s (default: this month's) summary of a cost center against its budget:
    costs:read at the organisation (a cost center spans teams: admins, finance, auditors)."""
    scope = require_cost_center(view, "costs:read", code)
    figures = _group_summary(view, scope, month)
    return CostCenterSummary(
        summary=figures.summary,
        members=figures.members,
        team_resources=figures.team_resources,
        scope=scope,
    )
