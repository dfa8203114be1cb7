"""Who is calling: the token's identity. Kept apart from the other domain models because
every API request needs it and nothing else from them."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from tally.tables import ADMIN_GROUP

if TYPE_CHECKING:
    from tally.authz.authorizer import Authorizer

# API Gateway hands the groups claim to the function as one string: "a,b" (REST, Cognito
# authorizer) or "[a b]" (HTTP API): a name holding one of these could pass for two groups.
GROUP_NAME_DELIMITERS = re.compile(r"[\s,\[\]\"']")


def group_name_problem(name: str) -> str | None:
    """Why ``name`` may not name a Cognito group, or None. Used by CDK and the local stack
    before they create a group, and by the API to refuse admin to a token it cannot read
    unambiguously."""
    if not name:
        return "a group name may not be empty"
    if GROUP_NAME_DELIMITERS.search(name):
        return (
            f"group name {name!r} holds a space, comma, bracket or quote: API Gateway's "
            "rendering of the groups claim could not tell it from several groups"
        )
    if any(unicodedata.category(ch)[0] in "CZ" for ch in name):
        return f"group name {name!r} holds a control, format or separator character"
    return None


def check_group_name(name: str) -> str:
    """``name`` if it may name a group; ``ValueError`` otherwise."""
    problem = group_name_problem(name)
    if problem:
        raise ValueError(problem)
    return name


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
    # In the admins group, but without the two-step sign-in admins need (tally.mfa): the
    # API treats them as a user until they turn it on.
    admin_needs_mfa: bool = False
    # The request's policy decisions (``tally.authz``), bound by the API once it has read the
    # caller's access profile; None where nothing was read (tests, scripts): the token's
    # groups then give the default roles (``tally.access.authorizer_of``).
    authorizer: Authorizer | None = field(default=None, compare=False, repr=False)

    @property
    def is_admin(self) -> bool:
        """Holds the admin role at the organisation (the admins group until roles are set)."""
        if self.authorizer is not None:
            return self.authorizer.is_admin()
        return ADMIN_GROUP in self.groups  # exact membership, never a substring

    @property
    def role(self) -> Role:
        return Role.ADMIN if self.is_admin else Role.USER
