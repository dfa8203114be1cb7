"""Domain events on the EventBridge bus (``TALLY_EVENT_BUS_NAME``).

``CostsIngested`` is the one event today: the ingest announces it after each run, and the
alerts function subscribes to it (a rule on its detail-type). Its source, detail-type and
detail shape are a contract: rules, the local stack and tests match on them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # a subscriber reads the event without importing the ingest's code
    from tally.ingest import IngestResult

SOURCE = "tally.ingest"
COSTS_INGESTED = "CostsIngested"


def costs_ingested(
    job: Mapping[str, str | None], result: IngestResult, source_requests: int
) -> dict[str, Any]:
    """The detail of ``CostsIngested``: the job (``start``, ``end`` exclusive,
    ``focusBucket``, ``focusKey``), the days it replaced, the months it recomputed, how many
    owners and records, totals per currency as decimal strings, how many closed months were
    restated, and how many billable source requests it made."""
    return {
        **job,
        "days": [d.isoformat() for d in result.days],
        "months": sorted(result.months),
        "owners": len(result.owners),
        "records": result.records,
        "totals": {c: str(v) for c, v in result.totals.items()},
        "restatements": len(result.restated),
        "sourceRequests": source_requests,
    }


def publish(
    client: Any, bus_name: str, detail_type: str, detail: Mapping[str, Any], *, source: str = SOURCE
) -> None:
    """One event on the bus, through an EventBridge client (boto3's, or moto's in tests)."""
    client.put_events(
        Entries=[
            {
                "Source": source,
                "DetailType": detail_type,
                "Detail": json.dumps(detail),
                "EventBusName": bus_name,
            }
        ]
    )
