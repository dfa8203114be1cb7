"""The access migration: gives every user of the pool explicit roles, and optionally turns
Cognito groups into teams. Run on every deploy (a CDK trigger, ``functions/access``) and by
the local stack at start.

Before it, a user's access comes from defaults (``AccessProfile.grants is None``): a member of
the Cognito ``admins`` group holds admin@org, everyone else member@self. The migration writes
exactly those grants down, so existing users keep exactly the access they had. It only fills
profiles that are absent or never set (``AccessStore.ensure_profile``): an admin's later change
is never overwritten, so it is safe to run twice and on a live system, and a second run writes
nothing.

Team sync (setting ``TALLY_TEAM_GROUP_PREFIX``, e.g. "team-"): the group "team-payments"
becomes the team "payments" (source "cognito") whose members are the group's. Only the
members follow the group; name, parent, cost center, managers and roles stay as an admin set
them in Tally. A team of the same id made in Tally (source "tally") is left alone, and a team
whose group was deleted is kept (deleting it would drop its budgets' subject): both logged.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from tally.models import AuditEntry
from tally.org.model import ORG_SCOPE, SELF_SCOPE, SLUG, AccessProfile, Grant, Team
from tally.tables import ADMIN_GROUP

if TYPE_CHECKING:
    from tally.store.access import AccessStore

log = logging.getLogger(__name__)

ACTOR = "system:migration"  # who the audit log says made the migration's changes
MIGRATED = "roles.migrated"
TEAM_SOURCE = "cognito"
# A team save changes at most this many memberships (one DynamoDB transaction holds 100 items:
# the team, the snapshot, the audit entry and one profile per person added or removed).
MAX_MEMBERSHIP_CHANGES = 90
# The value every audit entry carries in ``listed`` (the AUDIT table's "all" index).
AUDIT_LISTED = "ALL"


class GroupDirectory(Protocol):
    """The user pool, as the migration reads it."""

    def user_ids(self) -> list[str]: ...
    def group_members(self, group: str) -> frozenset[str]: ...
    def groups(self) -> list[str]: ...


class CognitoGroups:
    """``GroupDirectory`` over a Cognito user pool: ListUsers once for everyone and
    ListUsersInGroup per group, paged (never a call per user)."""

    def __init__(self, client: Any, user_pool_id: str) -> None:
        self._client = client
        self._pool = user_pool_id

    def _pages(self, operation: str, key: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        # ListUsers pages with PaginationToken, the group calls with NextToken.
        token_name = "PaginationToken" if operation == "list_users" else "NextToken"
        token: str | None = None
        while True:
            page = getattr(self._client, operation)(
                UserPoolId=self._pool, **kwargs, **({token_name: token} if token else {})
            )
            yield from page.get(key, [])
            token = page.get(token_name)
            if not token:
                return

    @staticmethod
    def _sub(user: dict[str, Any]) -> str | None:
        return next((a["Value"] for a in user.get("Attributes", []) if a["Name"] == "sub"), None)

    def user_ids(self) -> list[str]:
        users = self._pages("list_users", "Users", Limit=60, AttributesToGet=["sub"])
        return [sub for sub in map(self._sub, users) if sub]

    def group_members(self, group: str) -> frozenset[str]:
        try:
            users = list(self._pages("list_users_in_group", "Users", GroupName=group, Limit=60))
        except self._client.exceptions.ResourceNotFoundException:
            return frozenset()  # no such group: nobody in it
        return frozenset(sub for sub in map(self._sub, users) if sub)

    def groups(self) -> list[str]:
        return [g["GroupName"] for g in self._pages("list_groups", "Groups", Limit=60)]


def default_grants(is_admin: bool) -> tuple[Grant, ...]:
    """Today's access as grants: admin of the organisation for the admins group, else
    member of one's own data."""
    return (Grant("admin", ORG_SCOPE),) if is_admin else (Grant("member", SELF_SCOPE),)


def grants_json(grants: Iterable[Grant] | None) -> str:
    """Grants as the audit log's ``before``/``after`` text (the API's shape)."""
    if grants is None:
        return "null"
    return json.dumps([{"roleId": g.role_id, "scope": g.scope.key} for g in grants])


@dataclass(frozen=True)
class MigrationResult:
    users: int  # users in the pool
    profiles_set: int  # profiles this run made explicit (0 on a second run)
    admins_set: int  # of them, given admin@org
    teams_created: int = 0
    teams_updated: int = 0
    audit_backfilled: int = 0
    cost_lines_keyed: int = 0  # cost lines given their "by-resource" key (0 once done)


def migrate_grants(
    access: AccessStore, directory: GroupDirectory, *, now: datetime
) -> tuple[int, int, int]:
    """Make every pool user's default grants explicit; returns (users, set, admins set)."""
    admins = directory.group_members(ADMIN_GROUP)
    users = directory.user_ids()
    written = admins_written = 0
    for user_id in users:
        grants = default_grants(user_id in admins)
        audit = AuditEntry(
            subject_user_id=user_id,
            at=now,
            actor=ACTOR,
            action=MIGRATED,
            entity_id=user_id,
            details={"before": grants_json(None), "after": grants_json(grants)},
        )
        if access.ensure_profile(AccessProfile(user_id, grants), audit=audit):
            written += 1
            admins_written += user_id in admins
    return len(users), written, admins_written


def team_of_group(group: str, prefix: str) -> str | None:
    """The team id a Cognito group names under ``prefix``, or None."""
    if not prefix or not group.startswith(prefix):
        return None
    team_id = group[len(prefix) :]
    return team_id if SLUG.fullmatch(team_id) else None


def membership_steps(
    current: frozenset[str], target: frozenset[str], limit: int = MAX_MEMBERSHIP_CHANGES
) -> Iterator[frozenset[str]]:
    """Member sets from ``current`` to ``target``, each at most ``limit`` changes from the
    one before (nothing when they are equal)."""
    changes = [(u, True) for u in sorted(target - current)]
    changes += [(u, False) for u in sorted(current - target)]
    members = set(current)
    for start in range(0, len(changes), limit):
        for user_id, added in changes[start : start + limit]:
            if added:
                members.add(user_id)
            else:
                members.discard(user_id)
        yield frozenset(members)


def _team_audit(team: Team, previous: Team | None, now: datetime) -> AuditEntry:
    def text(t: Team | None) -> str:
        if t is None:
            return "null"
        return json.dumps({"teamId": t.team_id, "members": sorted(t.members), "source": t.source})

    return AuditEntry(
        subject_user_id=f"team:{team.team_id}",
        at=now,
        actor=ACTOR,
        action="team.updated" if previous else "team.created",
        entity_id=team.team_id,
        details={"before": text(previous), "after": text(team)},
    )


def sync_teams(
    access: AccessStore, directory: GroupDirectory, prefix: str, *, now: datetime
) -> tuple[int, int]:
    """Teams from the groups named ``<prefix><team id>``; returns (created, updated)."""
    created = updated = 0
    for group in sorted(directory.groups()):
        team_id = team_of_group(group, prefix)
        if team_id is None:
            if prefix and group.startswith(prefix):
                log.warning("group %r: %r is not a team id; skipped", group, group[len(prefix) :])
            continue
        existing = access.get_team(team_id)
        if existing is not None and existing.source != TEAM_SOURCE:
            log.warning("team %r was made in Tally: group %r does not change it", team_id, group)
            continue
        target = directory.group_members(group)
        previous = existing
        if previous is None:
            # Created empty, then filled like an existing team: in bounded steps.
            previous = access.save_team(
                Team(team_id, team_id, source=TEAM_SOURCE),
                previous=None,
                snapshot=access.snapshot(),
                audit=_team_audit(Team(team_id, team_id, source=TEAM_SOURCE), None, now),
            )
            created += 1
        changed = False
        for members in membership_steps(previous.members, target, MAX_MEMBERSHIP_CHANGES):
            team = replace(previous, members=members)
            previous = access.save_team(
                team,
                previous=previous,
                snapshot=access.snapshot(),
                audit=_team_audit(team, previous, now),
            )
            changed = True
        updated += changed and existing is not None
    return created, updated


def migrate_access(
    access: AccessStore,
    directory: GroupDirectory,
    *,
    now: datetime,
    team_group_prefix: str | None = None,
) -> MigrationResult:
    """The whole migration: explicit grants for everyone, then the team sync when a prefix
    is set. Idempotent: a second run changes nothing."""
    users, written, admins = migrate_grants(access, directory, now=now)
    created = updated = 0
    if team_group_prefix:
        created, updated = sync_teams(access, directory, team_group_prefix, now=now)
    return MigrationResult(users, written, admins, created, updated)


def backfill_audit_listing(page_size: int = 500) -> int:
    """Give every audit entry written before the "all" index existed its ``listed`` value,
    so ``GET /api/audit`` lists it. A Scan (this is a deploy-time job, not a request path),
    paged, of the entries still without it; returns how many it changed. The items must be
    bound (``tally.store.base.bind_items``) first."""
    from tally.store.audit import AuditItem

    changed = 0
    for item in AuditItem.scan(
        filter_condition=AuditItem.listed.does_not_exist(), page_size=page_size
    ):
        # Only an entry that still exists: an update must never create one.
        item.update(actions=[AuditItem.listed.set(AUDIT_LISTED)], condition=AuditItem.pk.exists())
        changed += 1
    return changed
