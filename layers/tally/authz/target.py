"""What a decision is about: the organisation, a team, or a user (the Cedar resource)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from tally.models import ORG, UNALLOCATED
from tally.org.model import cost_center_of_owner, team_of_owner

TargetKind = Literal["org", "team", "user"]

# The organisation is one entity; its id only has to be stable.
ORG_ID = "org"


@dataclass(frozen=True)
class Target:
    kind: TargetKind
    id: str

    @classmethod
    def org(cls) -> Target:
        return cls("org", ORG_ID)

    @classmethod
    def user(cls, user_id: str) -> Target:
        return cls("user", user_id)

    @classmethod
    def team(cls, team_id: str) -> Target:
        return cls("team", team_id)

    @classmethod
    def owner(cls, owner_id: str) -> Target:
        """The target of an owner id of assignments, costs, roll-ups and budgets: a team
        ("team:<id>"), the organisation (ORG, UNALLOCATED, which only the organisation's
        readers see, and a cost center's "costcenter:<code>", which spans teams), else a user."""
        if owner_id in (ORG, UNALLOCATED) or cost_center_of_owner(owner_id) is not None:
            return cls.org()
        team = team_of_owner(owner_id)
        return cls.team(team) if team is not None else cls.user(owner_id)
