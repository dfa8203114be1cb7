"""What the engine answers: a decision, and why someone holds what they hold."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from tally.org.model import Grant, Scope

# direct: the user's own grant; default: no grants set yet (admins group -> admin@org, else
# member@self); team: a grant of a team they belong to (or of a team above it); manager:
# team-manager of a team they manage (derived, never stored as a grant).
Via = Literal["direct", "default", "team", "manager"]


@dataclass(frozen=True)
class GrantSource:
    """Why someone holds a grant."""

    grant: Grant
    via: Via
    team_id: str | None = None  # the team whose grant it is (team) or that they manage


@dataclass(frozen=True)
class Decision:
    allowed: bool
    # The grants whose policies allowed it (Cedar's reasons), empty for a deny and for what
    # everyone may do (self-service, reading one's own teams).
    granted_by: tuple[GrantSource, ...] = ()
    # Ids of the forbid policies that refused it, empty when nothing allowed it.
    forbidden_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class AccessLine:
    """One permission someone holds at one scope, and the grants that give it (empty for
    self-service: everyone holds it on their own data)."""

    permission: str
    scope: Scope
    sources: tuple[GrantSource, ...]
