"""Who may do what: each user's access profile, the teams, the custom roles and the
organisation snapshot (table ACCESS).

A decision reads two items at most: the snapshot (custom roles, team tree, admins) and the
profiles of the caller and perhaps of the target (one BatchGetItem). Every change is ONE
transaction: the changed items, the snapshot with the change applied, conditioned on the
version it was read at (so two concurrent changes cannot both pass the checks the use case
made against it: the later gets ``Conflict``), and the audit entry.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

from pynamodb.attributes import (
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import TransactWriteError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.transactions import TransactWrite

from tally import tables
from tally.errors import Conflict, Invalid
from tally.models import AuditEntry
from tally.org import snapshots
from tally.org.model import (
    AccessProfile,
    Grant,
    OrgSnapshot,
    RoleDef,
    Scope,
    Team,
    TeamKind,
    TeamNode,
)
from tally.settings import Settings
from tally.store import keys
from tally.store.attributes import DecimalJSONAttribute
from tally.store.audit import MemoryAuditLog, append_audit
from tally.store.base import DynamoStore, KeyedItem, cancel_codes

# A transaction holds 100 items: the team, the snapshot, the audit entry and one profile per
# person who joins or leaves (as member or manager), with room to spare.
MAX_PEOPLE_PER_SAVE = 90
STALE = "the organisation's access was changed by someone else; reload and retry"


class AccessStore(Protocol):
    """Reads for decisions (``snapshot``, ``profiles``: also ``tally.authz``'s AccessSource)
    and the changes of the use cases (``tally.org``).

    Every change takes the ``snapshot`` the use case read and checked it against; the store
    writes that snapshot with the change applied (``tally.org.snapshots``) and its version
    plus one, or raises ``Conflict`` when the stored snapshot (or the changed item, against
    ``previous``) moved on since. ``previous`` is the item as read (None: it must not exist).
    """

    def snapshot(self) -> OrgSnapshot:
        """The organisation's snapshot (empty, version 0, before any change)."""

    def profiles(self, user_ids: Collection[str]) -> dict[str, AccessProfile]:
        """A profile for every id asked (one BatchGetItem for up to 100): a user without a
        stored one gets ``AccessProfile(user_id)`` (grants None: the defaults apply)."""

    def get_team(self, team_id: str) -> Team | None: ...

    def list_teams(self) -> list[Team]:
        """Every team, in name order."""

    def save_team(
        self, team: Team, *, previous: Team | None, snapshot: OrgSnapshot, audit: AuditEntry
    ) -> Team:
        """Creates or replaces ``team``; the profiles of the people who join or leave it (as
        members or managers) change with it. More than ``MAX_PEOPLE_PER_SAVE`` of them:
        ``Invalid`` (field "members"). Returns the saved team (version + 1)."""

    def delete_team(self, team: Team, *, snapshot: OrgSnapshot, audit: AuditEntry) -> None:
        """Deletes ``team`` (as read: ``team.version``) and its members' and managers' links."""

    def save_role(
        self, role: RoleDef, *, previous: RoleDef | None, snapshot: OrgSnapshot, audit: AuditEntry
    ) -> RoleDef:
        """Creates or replaces a custom role; returns it saved (version + 1)."""

    def delete_role(self, role: RoleDef, *, snapshot: OrgSnapshot, audit: AuditEntry) -> None:
        """Deletes a custom role (as read: ``role.version``); grants of it stay, inert."""

    def set_grants(
        self,
        user_id: str,
        grants: tuple[Grant, ...],
        *,
        previous: AccessProfile | None,
        snapshot: OrgSnapshot,
        audit: AuditEntry,
    ) -> AccessProfile:
        """Makes ``grants`` the user's direct grants (the snapshot's admins follow); returns
        the saved profile (version + 1)."""

    def ensure_profile(self, profile: AccessProfile, *, audit: AuditEntry | None = None) -> bool:
        """The migration's write: gives ``profile.grants`` to a user whose grants were never
        set (no profile, or grants None), and adds them to the snapshot's admins when they
        hold admin@org (version + 1), with ``audit`` in the same transaction. False (nothing
        written) when their grants are set already, so running it twice, or on a live
        system, changes nothing an admin decided."""


# --- changes of people -------------------------------------------------------------------


@dataclass(frozen=True)
class PersonChange:
    """How one person's links to one team change: joins (True), leaves (False) or stays."""

    member: bool | None = None
    manager: bool | None = None


def people_changes(before: Team | None, after: Team | None) -> dict[str, PersonChange]:
    """Whose profile a team change touches, and how; ``Invalid`` beyond the transaction's
    room."""
    old_members = before.members if before else frozenset()
    new_members = after.members if after else frozenset()
    old_managers = before.managers if before else frozenset()
    new_managers = after.managers if after else frozenset()

    def moved(old: frozenset[str], new: frozenset[str], user: str) -> bool | None:
        if (user in old) == (user in new):
            return None
        return user in new

    people = (old_members ^ new_members) | (old_managers ^ new_managers)
    if len(people) > MAX_PEOPLE_PER_SAVE:
        raise Invalid.field(
            "members",
            f"{len(people)} people join or leave the team in this change; at most "
            f"{MAX_PEOPLE_PER_SAVE} may in one change: save it in steps",
        )
    return {
        user: PersonChange(
            moved(old_members, new_members, user), moved(old_managers, new_managers, user)
        )
        for user in sorted(people)
    }


def _linked(current: frozenset[str], team_id: str, change: bool | None) -> frozenset[str]:
    if change is None:
        return current
    return current | {team_id} if change else current - {team_id}


def changed_profile(profile: AccessProfile, team_id: str, change: PersonChange) -> AccessProfile:
    return replace(
        profile,
        teams=_linked(profile.teams, team_id, change.member),
        manages=_linked(profile.manages, team_id, change.manager),
        version=profile.version + 1,
    )


# --- items -------------------------------------------------------------------------------


class ProfileItem(KeyedItem):
    """pk USER#<user>, sk ACCESS. ``grants`` absent: never set (the defaults apply); teams
    and manages are sets changed in place (ADD/DELETE), so a team change never rewrites the
    grants an admin set, nor the migration a membership."""

    spec = tables.ACCESS

    grants = ListAttribute(of=UnicodeAttribute, null=True)  # grant keys
    teams = UnicodeSetAttribute(null=True)
    manages = UnicodeSetAttribute(null=True)
    version = NumberAttribute(null=True)


class TeamsByName(GlobalSecondaryIndex["TeamItem"]):
    class Meta:
        index_name = tables.ACCESS.indexes[0].name
        projection = AllProjection()

    listed = UnicodeAttribute(hash_key=True)
    sort_name = UnicodeAttribute(range_key=True)


class TeamItem(KeyedItem):
    """pk TEAM#<id>, sk TEAM."""

    spec = tables.ACCESS

    listed = UnicodeAttribute(default=keys.TEAMS_LISTED)
    sort_name = UnicodeAttribute()
    name = UnicodeAttribute()
    kind = UnicodeAttribute()
    parent_id = UnicodeAttribute(null=True)
    cost_center = UnicodeAttribute(null=True)
    members = UnicodeSetAttribute(null=True)
    managers = UnicodeSetAttribute(null=True)
    grants = ListAttribute(of=UnicodeAttribute, null=True)
    source = UnicodeAttribute()
    version = NumberAttribute()
    created_at = UTCDateTimeAttribute(null=True)
    updated_at = UTCDateTimeAttribute(null=True)
    display_currency = UnicodeAttribute(null=True)
    by_name = TeamsByName()


class RoleItem(KeyedItem):
    """pk ROLE#<id>, sk ROLE: a custom role (the snapshot holds a copy, read by decisions)."""

    spec = tables.ACCESS

    name = UnicodeAttribute()
    description = UnicodeAttribute()
    permissions = UnicodeSetAttribute(null=True)
    version = NumberAttribute()
    updated_at = UTCDateTimeAttribute(null=True)


class SnapshotItem(KeyedItem):
    """pk ORG, sk SNAPSHOT. ``admins`` is a set, so the migration adds to it in place."""

    spec = tables.ACCESS

    roles = DecimalJSONAttribute(null=True)  # {roleId: {name, description, permissions, ...}}
    teams = DecimalJSONAttribute(null=True)  # {teamId: {name, kind, parentId, costCenter, grants}}
    admins = UnicodeSetAttribute(null=True)
    version = NumberAttribute(null=True)


# --- mapping -----------------------------------------------------------------------------


def grant_of(key: str) -> Grant:
    """The grant a ``Grant.key`` names ("<roleId>@<scope key>"; role ids hold no "@")."""
    role_id, scope = key.split("@", 1)
    return Grant(role_id, Scope.parse(scope))


def _grant_keys(grants: Iterable[Grant]) -> Any:
    # Any: pynamodb types a ListAttribute(of=UnicodeAttribute)'s value as attributes.
    return [g.key for g in grants]


def _grants(stored: Iterable[Any] | None) -> tuple[Grant, ...]:
    return tuple(grant_of(str(k)) for k in stored or ())


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _profile(user_id: str, item: ProfileItem) -> AccessProfile:
    return AccessProfile(
        user_id=user_id,
        grants=None if item.grants is None else _grants(item.grants),
        teams=frozenset(item.teams or ()),
        manages=frozenset(item.manages or ()),
        version=int(item.version or 0),
    )


def _team(item: TeamItem) -> Team:
    return Team(
        team_id=keys.team.id_of(item.pk),
        name=item.name,
        kind=TeamKind(item.kind),
        parent_id=item.parent_id,
        cost_center=item.cost_center,
        members=frozenset(item.members or ()),
        managers=frozenset(item.managers or ()),
        grants=_grants(item.grants),
        source=item.source,
        version=int(item.version),
        created_at=item.created_at,
        updated_at=item.updated_at,
        display_currency=item.display_currency,
    )


def _team_item(team: Team) -> TeamItem:
    return TeamItem(
        pk=keys.team(team.team_id),
        sk=keys.TEAM,
        sort_name=keys.sort_name(team.name, team.team_id),
        name=team.name,
        kind=team.kind.value,
        parent_id=team.parent_id,
        cost_center=team.cost_center,
        members=set(team.members) or None,
        managers=set(team.managers) or None,
        grants=_grant_keys(team.grants) or None,
        source=team.source,
        version=team.version,
        created_at=team.created_at,
        updated_at=team.updated_at,
        display_currency=team.display_currency,
    )


def _role_item(role: RoleDef) -> RoleItem:
    return RoleItem(
        pk=keys.role(role.role_id),
        sk=keys.ROLE,
        name=role.name,
        description=role.description,
        permissions=set(role.permissions) or None,
        version=role.version,
        updated_at=role.updated_at,
    )


def _role_doc(role: RoleDef) -> dict[str, Any]:
    return {
        "name": role.name,
        "description": role.description,
        "permissions": sorted(role.permissions),
        "version": role.version,
        "updatedAt": role.updated_at.isoformat() if role.updated_at else None,
    }


def _role(role_id: str, doc: dict[str, Any]) -> RoleDef:
    return RoleDef(
        role_id=role_id,
        name=doc["name"],
        description=doc["description"],
        permissions=frozenset(doc["permissions"]),
        version=int(doc["version"]),
        updated_at=_time(doc.get("updatedAt")),
    )


def _node_doc(node: TeamNode) -> dict[str, Any]:
    return {
        "name": node.name,
        "kind": node.kind.value,
        "parentId": node.parent_id,
        "costCenter": node.cost_center,
        "grants": _grant_keys(node.grants),
    }


def _node(team_id: str, doc: dict[str, Any]) -> TeamNode:
    return TeamNode(
        team_id=team_id,
        name=doc["name"],
        kind=TeamKind(doc["kind"]),
        parent_id=doc.get("parentId"),
        cost_center=doc.get("costCenter"),
        grants=_grants(doc.get("grants")),
    )


def _snapshot(item: SnapshotItem) -> OrgSnapshot:
    return OrgSnapshot(
        roles={k: _role(k, v) for k, v in (item.roles or {}).items()},
        teams={k: _node(k, v) for k, v in (item.teams or {}).items()},
        admins=frozenset(item.admins or ()),
        version=int(item.version or 0),
    )


def _snapshot_item(snapshot: OrgSnapshot) -> SnapshotItem:
    return SnapshotItem(
        pk=keys.ORG,
        sk=keys.SNAPSHOT,
        roles={k: _role_doc(v) for k, v in snapshot.roles.items()},
        teams={k: _node_doc(v) for k, v in snapshot.teams.items()},
        admins=set(snapshot.admins) or None,
        version=snapshot.version,
    )


# --- DynamoDB ----------------------------------------------------------------------------


class DynamoAccessStore(DynamoStore):
    def snapshot(self) -> OrgSnapshot:
        try:
            return _snapshot(SnapshotItem.get(keys.ORG, keys.SNAPSHOT, consistent_read=True))
        except SnapshotItem.DoesNotExist:
            return OrgSnapshot()

    def profiles(self, user_ids: Collection[str]) -> dict[str, AccessProfile]:
        ids = list(dict.fromkeys(user_ids))
        wanted = [(keys.user(u), keys.ACCESS) for u in ids]
        found = (
            {
                keys.user.id_of(i.pk): _profile(keys.user.id_of(i.pk), i)
                for i in ProfileItem.batch_get(wanted, consistent_read=True)
            }
            if wanted
            else {}
        )
        return {u: found.get(u) or AccessProfile(u) for u in ids}

    def get_team(self, team_id: str) -> Team | None:
        try:
            return _team(TeamItem.get(keys.team(team_id), keys.TEAM, consistent_read=True))
        except TeamItem.DoesNotExist:
            return None

    def list_teams(self) -> list[Team]:
        return [_team(i) for i in TeamItem.by_name.query(keys.TEAMS_LISTED)]

    def _write(self, snapshot: OrgSnapshot, audit: AuditEntry, changes: Any) -> OrgSnapshot:
        """One transaction: ``changes(tx)``, the snapshot (after the change) conditioned on
        the version read, the audit entry. Any failed condition is a concurrent change."""
        saved = replace(snapshot, version=snapshot.version + 1)
        read_at = snapshot.version
        try:
            with self._tx() as tx:
                changes(tx)
                tx.save(
                    _snapshot_item(saved),
                    condition=(SnapshotItem.version == read_at)
                    if read_at
                    else SnapshotItem.pk.does_not_exist(),
                )
                append_audit(tx, audit)
        except TransactWriteError as error:
            if "ConditionalCheckFailed" in cancel_codes(error):
                raise Conflict(STALE) from error
            raise
        return saved

    @staticmethod
    def _link(tx: TransactWrite, team_id: str, changes: dict[str, PersonChange]) -> None:
        for user, change in changes.items():
            actions: list[Any] = [ProfileItem.version.add(1)]
            for attribute, joins in (
                (ProfileItem.teams, change.member),
                (ProfileItem.manages, change.manager),
            ):
                if joins is not None:
                    actions.append(
                        attribute.add({team_id}) if joins else attribute.delete({team_id})
                    )
            tx.update(ProfileItem(pk=keys.user(user), sk=keys.ACCESS), actions=actions)

    def save_team(
        self, team: Team, *, previous: Team | None, snapshot: OrgSnapshot, audit: AuditEntry
    ) -> Team:
        changes = people_changes(previous, team)
        saved = replace(team, version=(previous.version if previous else 0) + 1)

        def write(tx: TransactWrite) -> None:
            tx.save(
                _team_item(saved),
                condition=(TeamItem.version == previous.version)
                if previous
                else TeamItem.pk.does_not_exist(),
            )
            self._link(tx, team.team_id, changes)

        self._write(snapshots.with_team(snapshot, saved), audit, write)
        return saved

    def delete_team(self, team: Team, *, snapshot: OrgSnapshot, audit: AuditEntry) -> None:
        changes = people_changes(team, None)

        def write(tx: TransactWrite) -> None:
            tx.delete(
                TeamItem(pk=keys.team(team.team_id), sk=keys.TEAM),
                condition=TeamItem.version == team.version,
            )
            self._link(tx, team.team_id, changes)

        self._write(snapshots.without_team(snapshot, team.team_id), audit, write)

    def save_role(
        self, role: RoleDef, *, previous: RoleDef | None, snapshot: OrgSnapshot, audit: AuditEntry
    ) -> RoleDef:
        saved = replace(role, version=(previous.version if previous else 0) + 1, builtin=False)

        def write(tx: TransactWrite) -> None:
            tx.save(
                _role_item(saved),
                condition=(RoleItem.version == previous.version)
                if previous
                else RoleItem.pk.does_not_exist(),
            )

        self._write(snapshots.with_role(snapshot, saved), audit, write)
        return saved

    def delete_role(self, role: RoleDef, *, snapshot: OrgSnapshot, audit: AuditEntry) -> None:
        def write(tx: TransactWrite) -> None:
            tx.delete(
                RoleItem(pk=keys.role(role.role_id), sk=keys.ROLE),
                condition=RoleItem.version == role.version,
            )

        self._write(snapshots.without_role(snapshot, role.role_id), audit, write)

    def set_grants(
        self,
        user_id: str,
        grants: tuple[Grant, ...],
        *,
        previous: AccessProfile | None,
        snapshot: OrgSnapshot,
        audit: AuditEntry,
    ) -> AccessProfile:
        before = previous or AccessProfile(user_id)

        def write(tx: TransactWrite) -> None:
            tx.update(
                ProfileItem(pk=keys.user(user_id), sk=keys.ACCESS),
                actions=[
                    ProfileItem.grants.set(_grant_keys(grants)),
                    ProfileItem.version.add(1),
                ],
                condition=(ProfileItem.version == before.version)
                if before.version
                else ProfileItem.version.does_not_exist(),
            )

        self._write(snapshots.with_grants(snapshot, user_id, grants), audit, write)
        return replace(before, grants=grants, version=before.version + 1)

    def ensure_profile(self, profile: AccessProfile, *, audit: AuditEntry | None = None) -> bool:
        if profile.grants is None:
            return False
        try:
            with self._tx() as tx:
                tx.update(
                    ProfileItem(pk=keys.user(profile.user_id), sk=keys.ACCESS),
                    actions=[
                        ProfileItem.grants.set(_grant_keys(profile.grants)),
                        ProfileItem.version.add(1),
                    ],
                    condition=ProfileItem.grants.does_not_exist(),
                )
                if snapshots.ADMIN_AT_ORG in profile.grants:
                    # In place, unconditioned: a use case's change racing it fails on the
                    # version and is retried against the snapshot holding this admin.
                    tx.update(
                        SnapshotItem(pk=keys.ORG, sk=keys.SNAPSHOT),
                        actions=[
                            SnapshotItem.admins.add({profile.user_id}),
                            SnapshotItem.version.add(1),
                        ],
                    )
                if audit is not None:
                    append_audit(tx, audit)
        except TransactWriteError as error:
            if "ConditionalCheckFailed" in cancel_codes(error):
                return False
            raise
        return True


# --- in memory ---------------------------------------------------------------------------


class MemoryAccessStore:
    def __init__(self, audit: MemoryAuditLog) -> None:
        self._audit = audit
        self.org = OrgSnapshot()
        self.by_user: dict[str, AccessProfile] = {}
        self.teams: dict[str, Team] = {}
        self.roles: dict[str, RoleDef] = {}

    def snapshot(self) -> OrgSnapshot:
        return self.org

    def profiles(self, user_ids: Collection[str]) -> dict[str, AccessProfile]:
        return {u: self.by_user.get(u) or AccessProfile(u) for u in dict.fromkeys(user_ids)}

    def get_team(self, team_id: str) -> Team | None:
        return self.teams.get(team_id)

    def list_teams(self) -> list[Team]:
        return sorted(self.teams.values(), key=lambda t: keys.sort_name(t.name, t.team_id))

    def _check(self, snapshot: OrgSnapshot, stored: Any, previous: Any) -> None:
        version = previous.version if previous is not None else None
        if snapshot.version != self.org.version or (
            (stored.version if stored is not None else None) != version
        ):
            raise Conflict(STALE)

    def _commit(self, snapshot: OrgSnapshot, audit: AuditEntry) -> None:
        self.org = replace(snapshot, version=self.org.version + 1)
        self._audit.append(audit)

    def _link(self, team_id: str, changes: dict[str, PersonChange]) -> None:
        for user, change in changes.items():
            profile = self.by_user.get(user) or AccessProfile(user)
            self.by_user[user] = changed_profile(profile, team_id, change)

    def save_team(
        self, team: Team, *, previous: Team | None, snapshot: OrgSnapshot, audit: AuditEntry
    ) -> Team:
        changes = people_changes(previous, team)
        self._check(snapshot, self.teams.get(team.team_id), previous)
        saved = replace(team, version=(previous.version if previous else 0) + 1)
        self.teams[team.team_id] = saved
        self._link(team.team_id, changes)
        self._commit(snapshots.with_team(snapshot, saved), audit)
        return saved

    def delete_team(self, team: Team, *, snapshot: OrgSnapshot, audit: AuditEntry) -> None:
        changes = people_changes(team, None)
        self._check(snapshot, self.teams.get(team.team_id), team)
        del self.teams[team.team_id]
        self._link(team.team_id, changes)
        self._commit(snapshots.without_team(snapshot, team.team_id), audit)

    def save_role(
        self, role: RoleDef, *, previous: RoleDef | None, snapshot: OrgSnapshot, audit: AuditEntry
    ) -> RoleDef:
        self._check(snapshot, self.roles.get(role.role_id), previous)
        saved = replace(role, version=(previous.version if previous else 0) + 1, builtin=False)
        self.roles[role.role_id] = saved
        self._commit(snapshots.with_role(snapshot, saved), audit)
        return saved

    def delete_role(self, role: RoleDef, *, snapshot: OrgSnapshot, audit: AuditEntry) -> None:
        self._check(snapshot, self.roles.get(role.role_id), role)
        del self.roles[role.role_id]
        self._commit(snapshots.without_role(snapshot, role.role_id), audit)

    def set_grants(
        self,
        user_id: str,
        grants: tuple[Grant, ...],
        *,
        previous: AccessProfile | None,
        snapshot: OrgSnapshot,
        audit: AuditEntry,
    ) -> AccessProfile:
        before = previous or AccessProfile(user_id)
        stored = self.by_user.get(user_id) or AccessProfile(user_id)
        if snapshot.version != self.org.version or stored.version != before.version:
            raise Conflict(STALE)
        saved = replace(stored, grants=grants, version=stored.version + 1)
        self.by_user[user_id] = saved
        self._commit(snapshots.with_grants(snapshot, user_id, grants), audit)
        return saved

    def ensure_profile(self, profile: AccessProfile, *, audit: AuditEntry | None = None) -> bool:
        stored = self.by_user.get(profile.user_id) or AccessProfile(profile.user_id)
        if profile.grants is None or stored.grants is not None:
            return False
        self.by_user[profile.user_id] = replace(
            stored, grants=profile.grants, version=stored.version + 1
        )
        if snapshots.ADMIN_AT_ORG in profile.grants:
            self.org = replace(
                self.org,
                admins=self.org.admins | {profile.user_id},
                version=self.org.version + 1,
            )
        if audit is not None:
            self._audit.append(audit)
        return True


def dynamodb_store(settings: Settings) -> AccessStore:
    return DynamoAccessStore(settings)


def memory_store(audit: MemoryAuditLog) -> AccessStore:
    return MemoryAccessStore(audit)
