"""Decisions for one request, and the warm container's cache of what they are made from.

An ``Authorizer`` is bound to the caller. It reads the organisation snapshot and the caller's
profile (one ``profiles`` call with whatever the request said it would need, ``prefetch``)
on its first decision, and a target user's profile only when that can change the answer: the
decision with the target placed directly under the organisation is a deny and the caller
holds a team-scoped grant. Members and organisation-wide roles never cost that read.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from threading import Lock
from typing import TYPE_CHECKING, Any, Protocol

from tally.authz.decision import AccessLine, Decision
from tally.authz.permissions import MEMBER
from tally.authz.target import Target
from tally.errors import Forbidden, NotFound
from tally.org.model import SELF_SCOPE, AccessProfile, Grant, OrgSnapshot, ScopeKind
from tally.tables import ADMIN_GROUP

if TYPE_CHECKING:
    from tally.authz.engine import PolicyEngine
    from tally.identity import Caller

# The refusal of every decision: the same words whether the target exists or not, so ids
# cannot be probed. A user target keeps the words the API has always answered with.
FORBIDDEN = "you do not have access to this"
FORBIDDEN_USER = "you may only access your own data"


class AccessSource(Protocol):
    """Where decisions' facts come from: the access store, or the cache in front of it."""

    def snapshot(self) -> OrgSnapshot: ...

    def profiles(self, user_ids: Collection[str]) -> dict[str, AccessProfile]:
        """The stored profiles of ``user_ids`` (absent for a user without one), in one read."""
        ...


Clock = Callable[[], float]


@dataclass
class _Kept:
    value: Any
    at: float


class CachedAccessSource:
    """``inner`` behind a per-container cache: the snapshot and each profile are trusted for
    ``seconds`` (TALLY_ACCESS_CACHE_SECONDS, 60 by default, at most 300) after they were read.
    So a revoked role stops working within that time, on every warm container, whatever the
    age of the caller's token. A profile that does not exist is remembered as absent too."""

    def __init__(
        self, inner: AccessSource, seconds: float | None = None, *, clock: Clock = time.monotonic
    ) -> None:
        if seconds is None:
            from tally.settings import access_cache_seconds

            seconds = access_cache_seconds()
        self.inner = inner
        self.seconds = seconds
        self._clock = clock
        self._snapshot: _Kept | None = None
        self._profiles: dict[str, _Kept] = {}
        self._lock = Lock()

    def _fresh(self, kept: _Kept | None, now: float) -> bool:
        return kept is not None and now - kept.at < self.seconds

    def snapshot(self) -> OrgSnapshot:
        now = self._clock()
        with self._lock:
            kept = self._snapshot
        if kept is not None and self._fresh(kept, now):
            snapshot: OrgSnapshot = kept.value
            return snapshot
        snapshot = self.inner.snapshot()
        with self._lock:
            self._snapshot = _Kept(snapshot, now)
        return snapshot

    def profiles(self, user_ids: Collection[str]) -> dict[str, AccessProfile]:
        now = self._clock()
        wanted = set(user_ids)
        with self._lock:
            kept = {u: self._profiles[u] for u in wanted if self._fresh(self._profiles.get(u), now)}
        missing = wanted - kept.keys()
        if missing:
            read = self.inner.profiles(missing)
            with self._lock:
                # A bounded map: a container serving many users forgets the oldest reads.
                if len(self._profiles) > PROFILES_KEPT:
                    self._profiles.clear()
                for user_id in missing:
                    entry = _Kept(read.get(user_id), now)
                    self._profiles[user_id] = kept[user_id] = entry
        return {u: k.value for u, k in kept.items() if k.value is not None}

    def forget(self) -> None:
        """Drop everything read (after this container changed roles or teams itself)."""
        with self._lock:
            self._snapshot = None
            self._profiles.clear()


# Profiles one container keeps before it starts afresh (a few MB at most).
PROFILES_KEPT = 10_000


def is_admin_profile(profile: AccessProfile, *, token_admin: bool) -> bool:
    from tally.authz.engine import default_grant, holds_admin

    grants = (
        profile.grants if profile.grants is not None else (default_grant(token_admin=token_admin),)
    )
    return any(holds_admin(grant) for grant in grants)


class Authorizer:
    """The caller's decisions for one request. Cheap to make: nothing is read (and Cedar is
    not imported) until the first decision. ``source`` None: decided from the token alone
    (defaults, no teams), as for tests and tools with no access table."""

    def __init__(
        self,
        caller: Caller,
        source: AccessSource | None,
        *,
        prefetch: Collection[str] = (),
    ) -> None:
        self.caller = caller
        self._source = source
        self._prefetch = frozenset(prefetch) - {caller.user_id}
        self._snapshot: OrgSnapshot | None = None
        self._profiles: dict[str, AccessProfile | None] = {}
        self._caller_read = False

    # --- what the decisions are made from ------------------------------------------------

    @property
    def token_admin(self) -> bool:
        """In the admins group, and not waiting to turn on two-step sign-in."""
        return ADMIN_GROUP in self.caller.groups and not self.caller.admin_needs_mfa

    @property
    def snapshot(self) -> OrgSnapshot:
        if self._snapshot is None:
            self._snapshot = self._source.snapshot() if self._source is not None else OrgSnapshot()
        return self._snapshot

    @property
    def profile(self) -> AccessProfile:
        """The caller's access profile as decisions see it: the stored one (or the defaults
        when none is stored); an admin who must still turn on two-step sign-in holds
        member@self only until they do."""
        if self.caller.admin_needs_mfa:
            return AccessProfile(self.caller.user_id, grants=(Grant(MEMBER, SELF_SCOPE),))
        if not self._caller_read:
            self._read({self.caller.user_id, *self._prefetch})
            self._caller_read = True
        stored = self._profiles.get(self.caller.user_id)
        return stored if stored is not None else AccessProfile(self.caller.user_id)

    def profile_of(self, user_id: str) -> AccessProfile | None:
        """Another user's stored profile (read once per request), or None."""
        if user_id not in self._profiles:
            self._read({user_id})
        return self._profiles[user_id]

    def _read(self, user_ids: set[str]) -> None:
        wanted = user_ids - self._profiles.keys()
        if not wanted:
            return
        read = self._source.profiles(wanted) if self._source is not None else {}
        for user_id in wanted:
            self._profiles[user_id] = read.get(user_id)

    @property
    def engine(self) -> PolicyEngine:
        from tally.authz.engine import PolicyEngine

        return PolicyEngine.for_snapshot(self.snapshot)

    # --- decisions -----------------------------------------------------------------------

    def decision(
        self, action: str, target: Target, *, context: Mapping[str, Any] | None = None
    ) -> Decision:
        engine = self.engine
        profile = self.profile
        decided = engine.decide(
            profile, action, target, context=context, token_admin=self.token_admin
        )
        if decided.allowed or decided.forbidden_by or not self._may_need_target(target):
            return decided
        # A team-scoped grant reaches a user through their teams, which only their profile
        # knows: ask again with them in place.
        target_profile = self.profile_of(target.id)
        if target_profile is None or not target_profile.teams:
            return decided
        return engine.decide(
            profile,
            action,
            target,
            target_profile=target_profile,
            context=context,
            token_admin=self.token_admin,
        )

    def _may_need_target(self, target: Target) -> bool:
        if target.kind != "user" or target.id == self.caller.user_id:
            return False
        sources = self.engine.sources(self.profile, token_admin=self.token_admin)
        return any(
            s.grant.scope.kind is ScopeKind.TEAM for given in sources.values() for s in given
        )

    def allows(
        self, action: str, target: Target, *, context: Mapping[str, Any] | None = None
    ) -> bool:
        return self.decision(action, target, context=context).allowed

    def require(
        self,
        action: str,
        target: Target,
        *,
        context: Mapping[str, Any] | None = None,
        not_found: str | None = None,
    ) -> None:
        """Return when allowed; else ``NotFound(not_found)`` when given (an entity addressed
        by its own id: a foreign one is reported as missing), or ``Forbidden``."""
        if self.allows(action, target, context=context):
            return
        if not_found is not None:
            raise NotFound(not_found)
        raise Forbidden(FORBIDDEN_USER if target.kind == "user" else FORBIDDEN)

    def is_admin(self) -> bool:
        """Holds admin at the organisation (directly, or by default from the admins group)."""
        return is_admin_profile(self.profile, token_admin=self.token_admin)

    def effective_access(self) -> list[AccessLine]:
        return self.engine.effective_access(self.profile, token_admin=self.token_admin)
