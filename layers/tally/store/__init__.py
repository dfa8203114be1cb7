"""Data access: one module per stored aggregate (``users``, ``assignments``, ``budgets``,
``costs``, ``rollups``, ``audit``, ``claims``, ``notifications``, ``preferences``,
``alert_ledger``, ``anomalies``, ``report_jobs``, ``invoice_numbers``, ``recommendations``,
``access``, ``rate_limits``, ``ingest_runs``, ``estate``, ``tax``, ``invoice_templates``,
``rates``, ``billing_settings``, ``payments``, ``commitments``, ``names``),
each holding its interface (a Protocol), its pynamodb items, the mapping between domain models
and items, its DynamoDB store and its in-memory fake. Key formats live in ``keys``; the keyed
base items in ``base``. pynamodb items never leave this package.

``Stores`` has one field per aggregate, named as its module; the module provides
``dynamodb_store(settings)`` and ``memory_store(audit)``, which the two factories below find
by that name (tests/store/test_registry.py checks each returns the field's type).
"""

from __future__ import annotations

import dataclasses
import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tally.settings import Settings
    from tally.store.access import AccessStore
    from tally.store.alert_ledger import AlertLedger
    from tally.store.anomalies import AnomalyStore
    from tally.store.assignments import AssignmentStore
    from tally.store.audit import AuditLog
    from tally.store.billing_settings import BillingSettingsStore
    from tally.store.budgets import BudgetStore
    from tally.store.claims import ClaimStore
    from tally.store.commitments import CommitmentStore
    from tally.store.costs import CostStore
    from tally.store.estate import EstateStore
    from tally.store.ingest_runs import IngestRunStore
    from tally.store.invoice_numbers import InvoiceNumberStore
    from tally.store.invoice_templates import InvoiceTemplateStore
    from tally.store.names import NameDirectory
    from tally.store.notifications import NotificationStore
    from tally.store.payments import PaymentStore
    from tally.store.preferences import PreferenceStore
    from tally.store.rate_limits import RateLimitStore
    from tally.store.rates import RateStore
    from tally.store.recommendations import RecommendationStore
    from tally.store.report_jobs import ReportJobStore
    from tally.store.rollups import RollupStore
    from tally.store.tax import TaxStore
    from tally.store.users import UserDirectory

# Page keys (``start_key``/``Page.next_key``) are opaque dicts; the API signs them into tokens.
PageKey = dict[str, Any]


@dataclass(frozen=True)
class Stores:
    users: UserDirectory
    assignments: AssignmentStore
    budgets: BudgetStore
    costs: CostStore
    rollups: RollupStore
    audit: AuditLog
    claims: ClaimStore
    notifications: NotificationStore
    preferences: PreferenceStore
    alert_ledger: AlertLedger
    anomalies: AnomalyStore
    report_jobs: ReportJobStore
    invoice_numbers: InvoiceNumberStore
    recommendations: RecommendationStore
    access: AccessStore
    rate_limits: RateLimitStore
    ingest_runs: IngestRunStore
    estate: EstateStore
    tax: TaxStore
    invoice_templates: InvoiceTemplateStore
    rates: RateStore
    billing_settings: BillingSettingsStore
    payments: PaymentStore
    commitments: CommitmentStore
    names: NameDirectory


def aggregates() -> list[str]:
    """The stored aggregates: ``Stores``' fields, each the name of its module here."""
    return [f.name for f in dataclasses.fields(Stores)]


def _module(aggregate: str) -> Any:
    # Imported on first use, not with this package: the API's cold start stays free of pynamodb.
    return importlib.import_module(f"{__name__}.{aggregate}")


def dynamodb_stores(settings: Settings) -> Stores:
    return Stores(**{name: _module(name).dynamodb_store(settings) for name in aggregates()})


def memory_stores() -> Stores:
    from tally.store.audit import MemoryAuditLog

    # One log for every fake, as the DynamoDB stores write theirs into one table.
    audit = MemoryAuditLog()
    return Stores(**{name: _module(name).memory_store(audit) for name in aggregates()})
