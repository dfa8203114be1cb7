"""Domain exceptions. The API turns each into one problem+json status in one place."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class TallyError(Exception):
    """Base class; ``detail`` is safe to show to the caller."""

    def __init__(self, detail: str, *, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []


class Unauthenticated(TallyError):
    """No usable identity on the request."""


class Forbidden(TallyError):
    """The caller may not act on that selector (another user's id, an admin-only route)."""


class NotFound(TallyError):
    """Nothing the caller may see has that id (also for other users' ids: no enumeration)."""


class Conflict(TallyError):
    """The change clashes with stored state (duplicate, share over 100%, stale version)."""


class Disabled(Conflict):
    """A capability this deployment has turned off (an estate action family): 409 with a
    problem type of its own, so a client can tell "off here" from a clash with stored state."""

    problem_slug = "action-disabled"


class Invalid(TallyError):
    """Well-formed input that breaks a rule (unknown resource, reversed range, ...)."""

    @classmethod
    def field(cls, field: str, message: str) -> Invalid:
        return cls(message, errors=[FieldError(field, message)])


class BadRequest(TallyError):
    """Input that cannot be parsed at all (malformed JSON, a forged page token)."""
