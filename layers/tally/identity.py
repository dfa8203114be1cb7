"""Who is calling: the token's identity. Kept apart from the other domain models because
every API request needs it and nothing else from them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tally.tables import ADMIN_GROUP


class Role(StrEnum):
    ADMIN = "admin"
    USER = "user"


@dataclass(frozen=True)
class Caller:
    """Who is calling, taken from the verified token only."""

    user_id: str  # Cognito ``sub``
    username: str
    email: str | None
    groups: frozenset[str]

    @property
    def is_admin(self) -> bool:
        return ADMIN_GROUP in self.groups  # exact membership, never a substring

    @property
    def role(self) -> Role:
        return Role.ADMIN if self.is_admin else Role.USER
