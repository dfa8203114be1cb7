"""Modules loaded on first use.

The handler imports only what every request needs (cold start is paid by real users); the
domain modules behind one area's routes load when such a route first runs. They are declared
here, once: routes write ``from api.lazy import reports``, and type checkers see the real
modules (the ``TYPE_CHECKING`` imports at the end).
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType
from typing import TYPE_CHECKING


def lazy_module(name: str) -> ModuleType:
    """``name``, executed on its first attribute access (``importlib.util.LazyLoader``)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module


if TYPE_CHECKING:
    from tally import (
        assignments,
        budgets,
        claims,
        notifications,
        preferences,
        recommendations,
        reports,
        unsubscribe,
    )
    from tally.anomalies import use_cases as anomalies
    from tally.commitments import listing as commitments
    from tally.estate import actions as estate_actions
    from tally.estate import views as estate
    from tally.estate.actions import sizing as estate_sizing
    from tally.org import costs as team_costs
else:
    anomalies = lazy_module("tally.anomalies.use_cases")
    assignments = lazy_module("tally.assignments")
    estate = lazy_module("tally.estate.views")
    budgets = lazy_module("tally.budgets")
    claims = lazy_module("tally.claims")
    commitments = lazy_module("tally.commitments.listing")
    estate_actions = lazy_module("tally.estate.actions")
    estate_sizing = lazy_module("tally.estate.actions.sizing")
    notifications = lazy_module("tally.notifications")
    preferences = lazy_module("tally.preferences")
    recommendations = lazy_module("tally.recommendations")
    reports = lazy_module("tally.reports")
    team_costs = lazy_module("tally.org.costs")
    unsubscribe = lazy_module("tally.unsubscribe")

__all__ = [
    "anomalies",
    "assignments",
    "budgets",
    "claims",
    "commitments",
    "estate",
    "estate_actions",
    "estate_sizing",
    "lazy_module",
    "notifications",
    "preferences",
    "recommendations",
    "reports",
    "team_costs",
    "unsubscribe",
]
