"""The state of fan-out ingest runs (``tally.ingest.runs``): pk RUN#<run id>, sk RUN (the
header) and PART#<partition> (one per partition a worker finished or failed).

A partition is marked done in one transaction with the header's ``done`` counter, conditioned
on it not being done yet: a duplicate delivery of the same batch counts nothing, and the count
can never pass the number of partitions, so the worker whose mark makes it complete knows it
is the last. Items expire after 14 days (the work bucket's objects do too).
"""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError, TransactWriteError, UpdateError

from tally import tables
from tally.ingest.codec import dumps
from tally.ingest.runs import IngestRun
from tally.settings import Settings
from tally.store.audit import MemoryAuditLog
from tally.store.base import DynamoStore, KeyedItem, cancel_codes

RETENTION = timedelta(days=14)
_RUN = "RUN"
_PART = "PART#"
_FAILED_CONDITION = "ConditionalCheckFailed"


class IngestRunStore(Protocol):
    def begin(self, run: IngestRun) -> IngestRun:
        """Record ``run``; when a run with its id exists already, return that one unchanged
        (a re-run resumes it, with its partitions)."""

    def get(self, run_id: str) -> IngestRun | None: ...

    def done_partitions(self, run_id: str) -> set[str]: ...

    def mark_done(self, run_id: str, partition: str) -> int | None:
        """Mark ``partition`` done, once: the run's count of done partitions after the mark,
        or None when it was done already (nothing counted)."""

    def record_failure(self, run_id: str, partition: str, error: str) -> int:
        """Count a failed attempt at ``partition`` (what failed, for the operator): the
        attempts so far."""

    def mark_finalized(self, run_id: str, announced: dict[str, Any]) -> bool:
        """Mark the run finalized with what it announced: True for the one call that marks
        it; False if it already was."""


def _doc(run: IngestRun) -> str:
    return dumps(
        {
            "job": run.job,
            "days": [d.isoformat() for d in run.days],
            "months": list(run.months),
            "source": run.source,
            "now": run.now.isoformat(),
            "ownerPartitions": run.owner_partitions,
            "partitions": list(run.partitions),
            "lines": run.lines,
            "newestDay": run.newest_day.isoformat() if run.newest_day else None,
            "sourceRequests": run.source_requests,
            "records": run.records,
            "totals": {c: str(v) for c, v in run.totals.items()},
        }
    )


def _run(
    run_id: str, doc: str, done: int, finalized: bool, announced: str | None = None
) -> IngestRun:
    d: dict[str, Any] = json.loads(doc)
    return IngestRun(
        run_id=run_id,
        job=d["job"],
        days=tuple(date.fromisoformat(x) for x in d["days"]),
        months=tuple(d["months"]),
        source=d["source"],
        now=datetime.fromisoformat(d["now"]),
        owner_partitions=d["ownerPartitions"],
        partitions=tuple(d["partitions"]),
        lines=d["lines"],
        newest_day=date.fromisoformat(d["newestDay"]) if d["newestDay"] else None,
        source_requests=d["sourceRequests"],
        records=d["records"],
        totals={c: Decimal(v) for c, v in d["totals"].items()},
        done=done,
        finalized=finalized,
        announced=json.loads(announced) if announced else None,
    )


def _expires(run: IngestRun) -> int:
    return int((run.now + RETENTION).timestamp())


class IngestRunItem(KeyedItem):
    spec = tables.INGEST_RUNS

    doc = UnicodeAttribute(null=True)  # the header's fixed part, JSON
    done = NumberAttribute(null=True)
    finalized = BooleanAttribute(null=True)
    announced = UnicodeAttribute(null=True)  # the CostsIngested detail, JSON
    status = UnicodeAttribute(null=True)  # a partition's: done | failed
    attempts = NumberAttribute(null=True)
    error = UnicodeAttribute(null=True)
    expires = NumberAttribute()


def _pk(run_id: str) -> str:
    return f"RUN#{run_id}"


class DynamoIngestRunStore(DynamoStore):
    def begin(self, run: IngestRun) -> IngestRun:
        item = IngestRunItem(
            pk=_pk(run.run_id),
            sk=_RUN,
            doc=_doc(run),
            done=0,
            finalized=False,
            expires=_expires(run),
        )
        try:
            item.save(condition=IngestRunItem.pk.does_not_exist())
        except PutError as error:
            if _FAILED_CONDITION not in str(error.cause_response_code or ""):
                raise
            existing = self.get(run.run_id)
            if existing is None:  # expired between the two calls: start afresh
                return self.begin(run)
            return existing
        return replace(run, done=0, finalized=False)

    def get(self, run_id: str) -> IngestRun | None:
        try:
            item = IngestRunItem.get(_pk(run_id), _RUN, consistent_read=True)
        except IngestRunItem.DoesNotExist:
            return None
        return _run(
            run_id, item.doc or "{}", int(item.done or 0), bool(item.finalized), item.announced
        )

    def done_partitions(self, run_id: str) -> set[str]:
        return {
            i.sk[len(_PART) :]
            for i in IngestRunItem.query(
                _pk(run_id), IngestRunItem.sk.startswith(_PART), consistent_read=True
            )
            if i.status == "done"
        }

    def mark_done(self, run_id: str, partition: str) -> int | None:
        header = self.get(run_id)
        if header is None:
            raise LookupError(f"no ingest run {run_id}")
        part = IngestRunItem(
            pk=_pk(run_id), sk=_PART + partition, status="done", expires=_expires(header)
        )
        try:
            with self._tx() as tx:
                tx.update(
                    part,
                    actions=[
                        IngestRunItem.status.set("done"),
                        IngestRunItem.expires.set(_expires(header)),
                    ],
                    condition=IngestRunItem.status.does_not_exist()
                    | (IngestRunItem.status != "done"),
                )
                tx.update(
                    IngestRunItem(pk=_pk(run_id), sk=_RUN, expires=_expires(header)),
                    actions=[IngestRunItem.done.add(1)],
                    condition=IngestRunItem.pk.exists(),
                )
        except TransactWriteError as error:
            if _FAILED_CONDITION in (cancel_codes(error)[0] or ""):
                return None
            raise
        after = self.get(run_id)
        return after.done if after else None

    def record_failure(self, run_id: str, partition: str, error: str) -> int:
        header = self.get(run_id)
        expires = _expires(header) if header else 0
        item = IngestRunItem(pk=_pk(run_id), sk=_PART + partition, expires=expires)
        try:
            item.update(
                actions=[
                    IngestRunItem.attempts.add(1),
                    IngestRunItem.status.set("failed"),
                    IngestRunItem.error.set(error[:1000]),
                    IngestRunItem.expires.set(expires),
                ],
                condition=IngestRunItem.status.does_not_exist() | (IngestRunItem.status != "done"),
            )
        except UpdateError as failure:
            if _FAILED_CONDITION not in str(failure.cause_response_code or ""):
                raise
            return 0
        return int(item.attempts or 0)

    def mark_finalized(self, run_id: str, announced: dict[str, Any]) -> bool:
        item = IngestRunItem(pk=_pk(run_id), sk=_RUN)
        try:
            item.update(
                actions=[
                    IngestRunItem.finalized.set(True),
                    IngestRunItem.announced.set(dumps(announced)),
                ],
                condition=IngestRunItem.pk.exists() & (IngestRunItem.finalized != True),  # noqa: E712
            )
        except UpdateError as failure:
            if _FAILED_CONDITION not in str(failure.cause_response_code or ""):
                raise
            return False
        return True


class MemoryIngestRunStore:
    def __init__(self) -> None:
        self.runs: dict[str, IngestRun] = {}
        self.parts: dict[tuple[str, str], dict[str, Any]] = {}
        self._lock = threading.Lock()  # the local stack's workers are threads

    def begin(self, run: IngestRun) -> IngestRun:
        with self._lock:
            if run.run_id not in self.runs:
                self.runs[run.run_id] = replace(run, done=0, finalized=False)
            return self.runs[run.run_id]

    def get(self, run_id: str) -> IngestRun | None:
        return self.runs.get(run_id)

    def done_partitions(self, run_id: str) -> set[str]:
        return {p for (r, p), s in self.parts.items() if r == run_id and s["status"] == "done"}

    def mark_done(self, run_id: str, partition: str) -> int | None:
        with self._lock:
            run = self.runs[run_id]
            part = self.parts.setdefault((run_id, partition), {"status": None, "attempts": 0})
            if part["status"] == "done":
                return None
            part["status"] = "done"
            self.runs[run_id] = replace(run, done=run.done + 1)
            return run.done + 1

    def record_failure(self, run_id: str, partition: str, error: str) -> int:
        with self._lock:
            part = self.parts.setdefault((run_id, partition), {"status": None, "attempts": 0})
            if part["status"] == "done":
                return 0
            part.update(status="failed", error=error, attempts=part["attempts"] + 1)
            return int(part["attempts"])

    def mark_finalized(self, run_id: str, announced: dict[str, Any]) -> bool:
        with self._lock:
            run = self.runs[run_id]
            if run.finalized:
                return False
            self.runs[run_id] = replace(run, finalized=True, announced=dict(announced))
            return True


def dynamodb_store(settings: Settings) -> IngestRunStore:
    return DynamoIngestRunStore(settings)


def memory_store(audit: MemoryAuditLog) -> IngestRunStore:
    return MemoryIngestRunStore()
