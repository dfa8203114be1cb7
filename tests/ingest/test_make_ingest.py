"""``make ingest FOCUS=...`` works out which days a file replaces before it uploads it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from infra.local.ingest import file_window
from tests.focus_files import daily_charges, project_export


def test_a_file_replaces_its_billing_periods_not_just_its_charge_days(tmp_path: Path) -> None:
    corrected = tmp_path / "january.csv"
    corrected.write_bytes(daily_charges([(date(2026, 1, d), "alice", "2") for d in (1, 2, 3)]))
    assert file_window(corrected) == (date(2026, 1, 1), date(2026, 2, 1))
    assert file_window(project_export(tmp_path).path) == (date(2026, 4, 1), date(2026, 6, 1))


def test_without_billing_period_columns_it_replaces_the_charge_days(tmp_path: Path) -> None:
    path = tmp_path / "days.csv"
    charges = [(date(2028, 2, 28), None, "1"), (date(2028, 3, 1), "alice", "2")]
    path.write_bytes(daily_charges(charges, billing_periods=False))
    assert file_window(path) == (date(2028, 2, 28), date(2028, 3, 2))


def test_a_file_that_is_not_focus_stops_before_the_upload(tmp_path: Path) -> None:
    path = tmp_path / "costs.csv"
    path.write_text("Cost,Date\n1,2026-05-01\n")
    with pytest.raises(SystemExit, match="missing BilledCost"):
        file_window(path)
