"""Reserved capacity (``tally.commitments``): pk ``COMMITMENTS``; sk ``SNAPSHOT`` holds the
latest refresh as one JSON document (a GetItem for the API), sk
``NOTICE#<commitment id>#<end>#<days>`` each expiry notice claimed (a conditional put: only
the first claim of a notice wins, so it is sent once however often the refresh runs)."""

from __future__ import annotations

import json
import threading
from datetime import date, datetime
from typing import Protocol

from pynamodb.attributes import UnicodeAttribute
from pynamodb.exceptions import PutError

from tally import tables
from tally.commitments.model import CommitmentSnapshot
from tally.settings import Settings
from tally.store.audit import MemoryAuditLog
from tally.store.base import DynamoStore, KeyedItem

PARTITION = "COMMITMENTS"
SNAPSHOT = "SNAPSHOT"
_FAILED_CONDITION = "ConditionalCheckFailedException"


class CommitmentStore(Protocol):
    def snapshot(self) -> CommitmentSnapshot | None:
        """The latest refresh, or None before the first."""

    def replace_snapshot(self, snapshot: CommitmentSnapshot) -> None:
        """Make ``snapshot`` the latest refresh."""

    def claim_notice(self, commitment_id: str, end: date, days: int, *, at: datetime) -> bool:
        """Claim the ``days``-ahead expiry notice of a commitment ending on ``end``: True for
        the first claim only."""


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


class MemoryCommitmentStore:
    def __init__(self) -> None:
        self.latest: CommitmentSnapshot | None = None
        self.notices: dict[str, datetime] = {}
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


def dynamodb_store(settings: Settings) -> CommitmentStore:
    return DynamoCommitmentStore(settings)


def memory_store(audit: MemoryAuditLog) -> CommitmentStore:
    return MemoryCommitmentStore()
