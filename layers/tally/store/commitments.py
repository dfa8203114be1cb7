"""Reserved capacity (``tally.commitments``): pk ``COMMITMENTS``; sk ``SNAPSHOT`` holds the
latest refresh as one JSON document (a GetItem for the API), sk
``NOTICE#<commitment id>#<end>#<days>`` each expiry notice claimed (a conditional put: only
the first claim of a notice wins, so it is sent once however often the refresh runs), and sk
``FOCUS#<day>`` the commitment uses of one day read from a FOCUS export
(``tally.commitments.focus``: one small JSON list, replaced whole by each ingest that reads the
day; read back by a Query over the days of the periods shown)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Protocol

from pynamodb.attributes import UnicodeAttribute
from pynamodb.exceptions import PutError

from tally import tables
from tally.commitments.focus import CommitmentUse
from tally.commitments.model import CommitmentSnapshot
from tally.settings import Settings
from tally.store.audit import MemoryAuditLog
from tally.store.base import DynamoStore, KeyedItem

PARTITION = "COMMITMENTS"
SNAPSHOT = "SNAPSHOT"
FOCUS_PREFIX = "FOCUS#"
_FAILED_CONDITION = "ConditionalCheckFailedException"


class CommitmentStore(Protocol):
    def snapshot(self) -> CommitmentSnapshot | None:
        """The latest refresh, or None before the first."""

    def replace_snapshot(self, snapshot: CommitmentSnapshot) -> None:
        """Make ``snapshot`` the latest refresh."""

    def claim_notice(self, commitment_id: str, end: date, days: int, *, at: datetime) -> bool:
        """Claim the ``days``-ahead expiry notice of a commitment ending on ``end``: True for
        the first claim only."""

    def replace_focus_uses(self, days: Iterable[date], uses: Iterable[CommitmentUse]) -> None:
        """Make ``uses`` the FOCUS commitment uses of ``days`` (a day of ``days`` without a use
        is stored as read and empty)."""

    def focus_uses(self, start: date, end: date) -> list[CommitmentUse]:
        """The stored FOCUS commitment uses of ``[start, end)``, oldest day first."""


def focus_key(day: date) -> str:
    return f"{FOCUS_PREFIX}{day.isoformat()}"


def _by_day(days: Iterable[date], uses: Iterable[CommitmentUse]) -> dict[date, list[CommitmentUse]]:
    grouped: dict[date, list[CommitmentUse]] = {day: [] for day in days}
    for use in uses:
        if use.day in grouped:
            grouped[use.day].append(use)
    return grouped


def _uses_doc(uses: list[CommitmentUse]) -> str:
    rows = [[u.commitment_id, u.service, u.currency, u.status, str(u.cost)] for u in uses]
    return json.dumps(rows, separators=(",", ":"))


def _uses_of(day: date, doc: str | None) -> list[CommitmentUse]:
    return [
        CommitmentUse(day, commitment, service, currency, status, Decimal(cost))
        for commitment, service, currency, status, cost in json.loads(doc or "[]")
    ]


def notice_key(commitment_id: str, end: date, days: int) -> str:
    return f"NOTICE#{commitment_id}#{end.isoformat()}#{days}"


class CommitmentItem(KeyedItem):
    spec = tables.COMMITMENTS

    doc = UnicodeAttribute(null=True)
    claimed_at = UnicodeAttribute(null=True)


class DynamoCommitmentStore(DynamoStore):
    def snapshot(self) -> CommitmentSnapshot | None:
        try:
            item = CommitmentItem.get(PARTITION, SNAPSHOT)
        except CommitmentItem.DoesNotExist:
            return None
        return CommitmentSnapshot.from_document(json.loads(item.doc or "{}"))

    def replace_snapshot(self, snapshot: CommitmentSnapshot) -> None:
        doc = json.dumps(snapshot.document(), separators=(",", ":"), sort_keys=True)
        CommitmentItem(pk=PARTITION, sk=SNAPSHOT, doc=doc).save()

    def claim_notice(self, commitment_id: str, end: date, days: int, *, at: datetime) -> bool:
        item = CommitmentItem(
            pk=PARTITION, sk=notice_key(commitment_id, end, days), claimed_at=at.isoformat()
        )
        try:
            item.save(condition=CommitmentItem.sk.does_not_exist())
        except PutError as error:
            if error.cause_response_code == _FAILED_CONDITION:
                return False
            raise
        return True

    def replace_focus_uses(self, days: Iterable[date], uses: Iterable[CommitmentUse]) -> None:
        with CommitmentItem.batch_write() as batch:
            for day, found in sorted(_by_day(days, uses).items()):
                batch.save(CommitmentItem(pk=PARTITION, sk=focus_key(day), doc=_uses_doc(found)))

    def focus_uses(self, start: date, end: date) -> list[CommitmentUse]:
        if end <= start:
            return []
        last = end - timedelta(days=1)
        items = CommitmentItem.query(
            PARTITION, CommitmentItem.sk.between(focus_key(start), focus_key(last))
        )
        return [
            use
            for item in items
            for use in _uses_of(date.fromisoformat(item.sk[len(FOCUS_PREFIX) :]), item.doc)
        ]


class MemoryCommitmentStore:
    def __init__(self) -> None:
        self.latest: CommitmentSnapshot | None = None
        self.notices: dict[str, datetime] = {}
        self.focus_days: dict[date, str] = {}  # the stored document of each day, as DynamoDB's
        self._lock = threading.Lock()

    def snapshot(self) -> CommitmentSnapshot | None:
        return self.latest

    def replace_snapshot(self, snapshot: CommitmentSnapshot) -> None:
        # Through the document, as the DynamoDB store does: what cannot be stored fails here.
        self.latest = CommitmentSnapshot.from_document(json.loads(json.dumps(snapshot.document())))

    def claim_notice(self, commitment_id: str, end: date, days: int, *, at: datetime) -> bool:
        key = notice_key(commitment_id, end, days)
        with self._lock:
            if key in self.notices:
                return False
            self.notices[key] = at
        return True

    def replace_focus_uses(self, days: Iterable[date], uses: Iterable[CommitmentUse]) -> None:
        with self._lock:
            for day, found in _by_day(days, uses).items():
                self.focus_days[day] = _uses_doc(found)

    def focus_uses(self, start: date, end: date) -> list[CommitmentUse]:
        return [
            use
            for day, doc in sorted(self.focus_days.items())
            if start <= day < end
            for use in _uses_of(day, doc)
        ]


def dynamodb_store(settings: Settings) -> CommitmentStore:
    return DynamoCommitmentStore(settings)


def memory_store(audit: MemoryAuditLog) -> CommitmentStore:
    return MemoryCommitmentStore()
