"""The billing periods in force: every function that computes a period follows the stored
definition for its invocation only (read again by the next: a change is seen at once)."""

from __future__ import annotations

import ast
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from tally import calendar, periods
from tally.calendar import PeriodDefinition
from tally.models import ORG, AuditEntry
from tally.store import Stores, memory_stores
from tally.store.billing_settings import StoredSection

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 12, 3, tzinfo=UTC)


def save(stores: Stores, definition: PeriodDefinition) -> None:
    stores.billing_settings.put_section(
        StoredSection("period", periods.to_values(definition), NOW, "u-fiona"),
        AuditEntry(
            subject_user_id=ORG, at=NOW, actor="u-fiona", action="t", entity_id="t", details={}
        ),
    )


def test_an_invocation_follows_the_stored_definition_and_leaves_none_behind() -> None:
    stores = memory_stores()
    save(stores, PeriodDefinition("monthly", start_day=10))

    @periods.follow_stored(lambda: stores)
    def handler(event: object, context: object) -> str:
        return calendar.month_of(date(2026, 12, 9))

    assert handler({}, None) == "2026-11"
    assert calendar.month_of(date(2026, 12, 9)) == "2026-12"  # outside: calendar months
    save(stores, PeriodDefinition("monthly", start_day=5))
    assert handler({}, None) == "2026-12"  # the next invocation reads the change


HANDLERS = [
    "api/handler.py",
    "alerts/handler.py",
    "ingest/handler.py",
    "ingest/worker.py",
    "reports/handler.py",
]


@pytest.mark.parametrize("path", HANDLERS)
def test_every_function_that_computes_periods_follows_the_stored_definition(path: str) -> None:
    """The functions whose code reaches tally.calendar (roll-ups, budgets, reports) put the
    organisation's definition in force around each invocation."""
    source = (REPO / "functions" / path).read_text()
    tree = ast.parse(source)
    handler = next(
        n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "lambda_handler"
    )
    text = ast.get_source_segment(source, handler) or ""
    decorated = any("follow_stored" in ast.unparse(d) for d in handler.decorator_list)
    assert decorated or "periods.in_force(" in text, path
