"""Idle resources and savings tips (issue 12).

``refresh_recommendations`` (the reports function, after each ingest and daily) reads the
account through ``collectors``, judges it with the pure ``rules``, finds each resource's
owners as the ingest allocates its costs, prices each owner's saving from their own cost lines
(``pricing``) and replaces the stored set. ``list_recommendations`` serves the API.
"""

from __future__ import annotations

from tally.recommendations.listing import RecommendationList, list_recommendations
from tally.recommendations.refresh import RefreshReport, refresh_recommendations

__all__ = [
    "RecommendationList",
    "RefreshReport",
    "list_recommendations",
    "refresh_recommendations",
]
