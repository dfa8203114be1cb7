"""The demo organisation the local stack starts with.

Placeholder: one admin and three users, so ``make run`` works end to end. The real demo
(resources, assignments, budgets, billing records) replaces this body; keep the signature.
"""

from __future__ import annotations

from collections.abc import Mapping

from infra.local.aws import ADMIN_ROLE, USER_ROLE, LocalAws, LocalUser, add_user


def demo_password(username: str) -> str:
    # Meets the pool's policy: 12+ characters with upper, lower, digit and symbol.
    return f"{username.title()}-Tally-Local-1"


def seed(env: Mapping[str, str]) -> list[LocalUser]:
    """Create the demo organisation in the running local stack; return its users."""
    aws = LocalAws.from_env(env)
    people = [("admin", ADMIN_ROLE), ("alice", USER_ROLE), ("bob", USER_ROLE), ("carol", USER_ROLE)]
    return [add_user(aws, name, demo_password(name), role=role) for name, role in people]
