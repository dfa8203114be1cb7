"""Reading the recommendations: a user's own, or the organisation's for an admin."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from tally.access import allows, require
from tally.authz import Target
from tally.models import Recommendation
from tally.view import View


@dataclass(frozen=True)
class RecommendationList:
    """Ranked by monthly saving, highest first. The total adds the items in ``currency`` (the
    organisation's default) only: amounts in another currency are listed as they are and never
    converted or mixed into it."""

    currency: str
    total_monthly_saving: Decimal
    items: list[Recommendation]


def ranked(items: list[Recommendation]) -> list[Recommendation]:
    return sorted(items, key=lambda r: (-r.monthly_saving, r.recommendation_id))


def list_recommendations(view: View, user_id: str | None) -> RecommendationList:
    """A user's own (``user_id`` omitted or theirs; another's: Forbidden unless admin); an
    admin without ``user_id``: the whole organisation's, including what nobody owns."""
    caller = view.caller
    store = view.stores.recommendations
    if user_id is None and allows(caller, "costs:read", Target.org()):
        items = store.all()
    else:
        target = user_id or caller.user_id
        require(caller, "costs:read", Target.owner(target))
        items = store.for_owner(target)
    total = sum((r.monthly_saving for r in items if r.currency == view.currency), Decimal("0.00"))
    return RecommendationList(view.currency, total, ranked(items))
