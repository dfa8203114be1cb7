"""DynamoDB requests per API request as the organisation grows (issue 13's acceptance: "the
DynamoDB calls per request stay constant with organisation size"). Used by ``make bench``
(1,000 teams against 10) and by tests/api/test_dynamodb_calls.py (200 against 5), which
asserts what the bench prints.

An organisation of ``teams`` teams: one department for every ``TEAMS_PER_DEPARTMENT`` teams,
the rest leaf teams under it, each leaf team with ``MEMBERS_PER_TEAM`` members and one
manager, each department with a manager; ``ROLES`` custom roles, one granted to every tenth
team. The measured people are the same in every size: the manager and a member of the first
leaf team, and the manager of the first department. Saving teams one by one through the
store's use cases is a transaction per team (minutes on moto for 1,000), so the items are
written as the store writes them, in batches: the organisation snapshot (one item), the
teams, the access profiles and the user directory's profiles.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from tally.identity import Caller
from tally.tables import USER_GROUP

ROLES = 100
TEAMS_PER_DEPARTMENT = 10
MEMBERS_PER_TEAM = 3
DYNAMODB_ITEM_LIMIT = 400 * 1024

MANAGER = Caller("m-d000-t1", "manager-d000-t1", None, frozenset({USER_GROUP}))
MEMBER = Caller("p-d000-t1-0", "member-d000-t1-0", None, frozenset({USER_GROUP}))
DEPARTMENT_MANAGER = Caller("m-d000", "manager-d000", None, frozenset({USER_GROUP}))
TEAM, DEPARTMENT = "d000-t1", "d000"

# name, caller, method, url: what each row measures.
REQUESTS: tuple[tuple[str, Caller, str, str], ...] = (
    ("manager: team summary", MANAGER, "GET", f"/api/billing/team/{TEAM}/summary"),
    ("member: /api/me", MEMBER, "GET", "/api/me"),
    ("member: own budget", MEMBER, "GET", f"/api/billing/budgets/{MEMBER.user_id}"),
    (
        "department manager: its summary",
        DEPARTMENT_MANAGER,
        "GET",
        f"/api/billing/team/{DEPARTMENT}/summary",
    ),
)


@dataclass(frozen=True)
class Organisation:
    teams: int
    roles: int
    people: int
    snapshot_bytes: int  # the ORG/SNAPSHOT item as DynamoDB sizes it


def _item_bytes(serialized: dict[str, dict[str, Any]]) -> int:
    """An item's size by DynamoDB's rule: attribute names plus values (UTF-8 strings, sets
    as the sum of their members, numbers taken at their text length, a bound above)."""

    def size(value: Any) -> int:
        if isinstance(value, list):
            return sum(size(v) for v in value)
        return len(str(value).encode())

    return sum(
        len(name.encode()) + size(next(iter(typed.values()))) for name, typed in serialized.items()
    )


def _batch(item_class: Any, items: Iterable[Any]) -> None:
    # BatchWriteItem, 25 items a request (pynamodb retries unprocessed ones).
    with item_class.batch_write() as batch:
        for item in items:
            batch.save(item)


def seed(teams: int, roles: int = ROLES) -> Organisation:
    """Writes the organisation into the access and users tables, which a DynamoDB store bound
    (``tally.store.dynamodb_stores``). Team ids grow with ``teams``, so a bigger organisation
    seeded over a smaller one holds it and overwrites its snapshot."""
    from tally.authz.permissions import PERMISSIONS
    from tally.identity import Role
    from tally.org.model import (
        Grant,
        OrgSnapshot,
        RoleDef,
        Scope,
        ScopeKind,
        Team,
        TeamKind,
        TeamNode,
    )
    from tally.store import keys
    from tally.store.access import ProfileItem, TeamItem, _snapshot_item, _team_item
    from tally.store.users import UserItem

    names = sorted(PERMISSIONS)
    custom = {
        f"role-{n}": RoleDef(
            f"role-{n}",
            f"Role {n}",
            "A custom role of the benchmark organisation",
            frozenset(names[n % 5 : n % 5 + 3 + n % 7]),
            version=1,
        )
        for n in range(roles)
    }
    stored: list[Team] = []
    member_of: dict[str, set[str]] = {}
    manager_of: dict[str, set[str]] = {}
    for n in range(teams):
        department, place = divmod(n, TEAMS_PER_DEPARTMENT)
        dept_id = f"d{department:03}"
        team_id = dept_id if place == 0 else f"{dept_id}-t{place}"
        members = (
            frozenset()
            if place == 0
            else frozenset(f"p-{team_id}-{k}" for k in range(MEMBERS_PER_TEAM))
        )
        managers = frozenset({f"m-{team_id}"})
        grants = (
            (Grant(f"role-{n % roles}", Scope(ScopeKind.TEAM, team_id)),) if n % 10 == 1 else ()
        )
        stored.append(
            Team(
                team_id,
                f"Department {department}" if place == 0 else f"Team {department}.{place}",
                TeamKind.DEPARTMENT if place == 0 else TeamKind.TEAM,
                None if place == 0 else dept_id,
                f"CC-{department:03}",
                members,
                managers,
                grants,
                version=1,
            )
        )
        for person in members:
            member_of.setdefault(person, set()).add(team_id)
        for person in managers:
            manager_of.setdefault(person, set()).add(team_id)

    snapshot = OrgSnapshot(
        roles=custom,
        teams={
            t.team_id: TeamNode(t.team_id, t.name, t.kind, t.parent_id, t.cost_center, t.grants)
            for t in stored
        },
        # Decisions keep a policy engine per snapshot version: a bigger organisation seeded
        # over a smaller one must not be taken for it.
        version=teams,
    )
    item = _snapshot_item(snapshot)
    item.save()  # moto refuses an item over 400 KB, as DynamoDB does
    _batch(TeamItem, (_team_item(t) for t in stored))
    people = sorted(member_of.keys() | manager_of.keys())
    _batch(
        ProfileItem,
        (
            ProfileItem(
                pk=keys.user(p),
                sk=keys.ACCESS,
                teams=member_of.get(p) or None,
                manages=manager_of.get(p) or None,
                version=1,
            )
            for p in people
        ),
    )
    _batch(
        UserItem,
        (
            UserItem(
                pk=keys.user(p),
                sk=keys.PROFILE,
                user_id=p,
                username=f"{'manager' if p.startswith('m-') else 'member'}-{p[2:]}",
                role=Role.USER.value,
                sort_name=keys.sort_name(p, p),
            )
            for p in people
        ),
    )
    return Organisation(teams, roles, len(people), _item_bytes(item.serialize()))


Call = Callable[[str, str, Caller | None, Any], int]


def measure(call: Call, calls: Counter[str], forget: Callable[[], None]) -> dict[str, Counter[str]]:
    """The DynamoDB operations of each of ``REQUESTS``, once on a container that has read no
    access facts yet (``forget`` clears its cache: "<name> (cold)") and once warm.
    ``call(method, url, caller, body)`` answers the status; ``calls`` counts as requests go."""
    from tests.conftest import ADMIN

    # The member's budget, made as an admin would (not counted).
    made = call(
        "POST", "/api/billing/budgets", ADMIN, {"userId": MEMBER.user_id, "monthlyLimit": "100"}
    )
    assert made in (201, 409), made
    out: dict[str, Counter[str]] = {}
    for name, caller, method, url in REQUESTS:
        forget()
        for state in ("cold", "warm"):
            calls.clear()
            status = call(method, url, caller, None)
            assert status == 200, (name, status)
            out[f"{name} ({state})"] = Counter(calls)
    return out


def compare(
    small: dict[str, Counter[str]], large: dict[str, Counter[str]]
) -> Iterator[tuple[str, str]]:
    """Rows: each request's count in the small and the large organisation, side by side."""
    for name, few in small.items():
        many = large[name]
        verdict = "same" if few == many else "DIFFERENT"
        yield (
            f"{name}: small / large",
            f"{sum(few.values())} / {sum(many.values())}  {verdict}  {dict(sorted(many.items()))}",
        )
