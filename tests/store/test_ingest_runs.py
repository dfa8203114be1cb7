"""The fan-out run store's contract, on DynamoDB (moto) and the in-memory fake alike: a run is
recorded once, a partition counts once, a run is finalized once."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from tally.ingest.runs import IngestRun
from tally.store import Stores
from tests.conftest import NOW


def run(
    run_id: str = "r1", partitions: tuple[str, ...] = ("u0000", "u0001", "o00-ff")
) -> IngestRun:
    return IngestRun(
        run_id=run_id,
        job={"start": "2026-11-17", "end": "2026-11-20", "focusBucket": None, "focusKey": None},
        days=(date(2026, 11, 17), date(2026, 11, 18), date(2026, 11, 19)),
        months=("2026-11",),
        source="cost-explorer",
        now=NOW,
        owner_partitions=2,
        partitions=partitions,
        lines=10,
        newest_day=date(2026, 11, 19),
        source_requests=3,
        records=12,
        totals={"USD": Decimal("12.345678")},
    )


class TestIngestRuns:
    def test_a_run_is_recorded_once_and_a_second_begin_returns_the_first(
        self, stores: Stores
    ) -> None:
        first = stores.ingest_runs.begin(run())
        assert first == run()
        again = stores.ingest_runs.begin(run(partitions=("u0000",)))
        assert again.partitions == ("u0000", "u0001", "o00-ff")
        assert stores.ingest_runs.get("r1") == first
        assert stores.ingest_runs.get("nope") is None

    def test_a_partition_counts_once_and_the_count_says_when_the_run_is_complete(
        self, stores: Stores
    ) -> None:
        stores.ingest_runs.begin(run())
        assert stores.ingest_runs.mark_done("r1", "u0000") == 1
        assert stores.ingest_runs.mark_done("r1", "u0000") is None  # a duplicate delivery
        assert stores.ingest_runs.record_failure("r1", "u0001", "ConnectionError: gone") == 1
        assert stores.ingest_runs.record_failure("r1", "u0001", "ConnectionError: gone") == 2
        assert stores.ingest_runs.mark_done("r1", "u0001") == 2
        assert stores.ingest_runs.record_failure("r1", "u0001", "late") == 0  # done stays done
        assert stores.ingest_runs.done_partitions("r1") == {"u0000", "u0001"}
        assert stores.ingest_runs.mark_done("r1", "o00-ff") == 3
        got = stores.ingest_runs.get("r1")
        assert got is not None and got.complete and not got.finalized

    def test_a_run_is_finalized_once_with_what_it_announced(self, stores: Stores) -> None:
        stores.ingest_runs.begin(run())
        assert stores.ingest_runs.mark_finalized("r1", {"records": 12, "totals": {"USD": "1"}})
        assert not stores.ingest_runs.mark_finalized("r1", {"records": 99})
        got = stores.ingest_runs.get("r1")
        assert got is not None and got.finalized
        assert got.announced == {"records": 12, "totals": {"USD": "1"}}
