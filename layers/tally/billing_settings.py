"""The organisation's billing settings, in sections.

Each section is its own stored item (``tally.store.billing_settings``) with its own defaults
here, so a part of the product adds a section (the billing period, the tax mode) by adding an
entry to ``DEFAULTS`` and its API model, without touching the others. Anyone signed in reads
them (every screen shows money in the organisation's currencies); finance and admins change
them (``billing:settings``), audited.

``period``: the billing-period definition (``tally.periods``; changed through it, since a
change recomputes the roll-ups).

``currency``: ``billingCurrency``, the currency the organisation is billed and invoiced in,
and ``displayCurrency``, the currency figures are shown in by default (the billing currency
unless set). A user's own display currency (their preferences) wins over the organisation's.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tally import periods
from tally.access import require
from tally.authz import Target
from tally.models import ORG, AuditEntry
from tally.store.billing_settings import StoredSection
from tally.view import View

SETTINGS_WRITE = "billing:settings"
CURRENCY = "currency"
PERIOD = "period"


def _currency_defaults(view: View) -> dict[str, Any]:
    return {"billingCurrency": view.currency, "displayCurrency": None}


# Section name -> its values when never saved. A new section adds its line here.
DEFAULTS: dict[str, Callable[[View], dict[str, Any]]] = {
    CURRENCY: _currency_defaults,
    PERIOD: lambda view: periods.defaults(),  # the billing periods (tally.periods)
}


@dataclass(frozen=True)
class Section:
    name: str
    values: dict[str, Any]
    updated_at: datetime | None  # None: the defaults, never saved
    updated_by: str | None


@dataclass(frozen=True)
class CurrencySettings:
    billing_currency: str
    display_currency: str  # the billing currency unless set


def billing_settings(view: View) -> dict[str, Section]:
    """Every section, saved or default (one Query)."""
    stored = view.stores.billing_settings.sections()
    out: dict[str, Section] = {}
    for name, default in DEFAULTS.items():
        values = default(view)
        saved = stored.get(name)
        if saved is not None:
            values.update({k: v for k, v in saved.values.items() if k in values})
        out[name] = Section(
            name,
            values,
            saved.updated_at if saved else None,
            saved.updated_by if saved else None,
        )
    return out


def currency_settings(view: View) -> CurrencySettings:
    values = billing_settings(view)[CURRENCY].values
    billing = values["billingCurrency"]
    return CurrencySettings(billing, values.get("displayCurrency") or billing)


def save_sections(
    view: View, changes: Mapping[str, Mapping[str, Any]], *, now: datetime
) -> dict[str, Section]:
    """Save the sections given (each whole after merging the fields given over its current
    values; fields outside the section are refused by the API model). Finance and admins."""
    require(view.caller, SETTINGS_WRITE, Target.org())
    current = billing_settings(view)
    for name, fields in changes.items():
        before = current[name].values
        after = {**before, **fields}
        view.stores.billing_settings.put_section(
            StoredSection(name, after, now, view.caller.user_id),
            AuditEntry(
                subject_user_id=ORG,
                at=now,
                actor=view.caller.user_id,
                action="billing-settings.updated",
                entity_id=f"billing-settings#{name}",
                details={
                    "before": json.dumps(before, sort_keys=True),
                    "after": json.dumps(after, sort_keys=True),
                },
            ),
        )
    return billing_settings(view)
