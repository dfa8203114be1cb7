"""The estate inventory: reads Lambda, the network, IAM users and Lambda metrics from AWS
(read-only, its own role) into the estate cache the API answers from (``tally.estate``).

Events:
- the hourly schedule (``{"source": "tally.schedule", ...}``), EventBridge's scheduled event or
  the local stack's run (``{"source": "tally.local"}``):
  every configured region, every family (IAM once: it is global; metrics after Lambda, from
  the functions just cached);
- ``{"refresh": {"region": "...", "family": "lambda|network|iam|metrics", "name": optional}}``:
  one region and family, or one resource by name (the network is re-read whole).
Anything else is refused (``BadRequest``): a full run is never started by accident.
A (region, family) that fails is logged and the others still run; the invocation then fails,
so the errors alarm sees it.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit

from inventory.settings import InventorySettings
from tally import observability
from tally.clock import utc_now
from tally.estate.models import FAMILIES, Family

if TYPE_CHECKING:
    from tally.estate.clients import EstateClients
    from tally.store import Stores
    from tally.store.estate import EstateStore

SERVICE = "tally-inventory"
logger = Logger(service=SERVICE)
tracer = observability.tracer(SERVICE)
metrics = observability.metrics(SERVICE)
observability.start_error_tracking(SERVICE)

# Events that ask for a full run: the hourly schedule (infra/constructs/inventory.py),
# EventBridge's own scheduled event, and the local stack's run after its seed.
FULL_RUN_SOURCES = ("tally.schedule", "aws.events", "tally.local")
# The order of a full refresh: metrics read the functions the Lambda refresh cached.
ORDER: tuple[Family, ...] = ("lambda", "metrics", "network", "iam")


class InventoryError(RuntimeError):
    """Some (region, family) could not be read; the others were."""


class BadRequest(ValueError):
    """A refresh event that names no configured region or no family."""


@lru_cache(maxsize=1)
def _store() -> EstateStore:
    from tally.store.estate import dynamodb_store

    return dynamodb_store(InventorySettings.load())


@lru_cache(maxsize=1)
def _stores() -> Stores:
    from tally.store import dynamodb_stores

    return dynamodb_stores(InventorySettings.load())


def _clients(settings: InventorySettings) -> EstateClients:
    from tally.estate.clients import Boto3EstateClients

    # New per invocation: its call counter is this run's.
    return Boto3EstateClients(endpoint_url=settings.aws_endpoint_url, role_arn=settings.role_arn)


def plan(
    event: Mapping[str, Any], settings: InventorySettings
) -> list[tuple[str, Family, str | None]]:
    """(region, family, name) to refresh, in order."""
    regions = settings.estate_regions
    asked = event.get("refresh")
    if isinstance(asked, Mapping):
        region, family, name = (
            asked.get("region") or regions[0],
            asked.get("family"),
            asked.get("name"),
        )
        if region not in regions:
            raise BadRequest(f"region {region!r} is not configured")
        if family not in FAMILIES:
            raise BadRequest(f"family must be one of {', '.join(FAMILIES)}")
        return [(str(region), family, str(name) if name else None)]
    if asked is not None or event.get("source") not in FULL_RUN_SOURCES:
        raise BadRequest("expected a scheduled event or {'refresh': {'region', 'family'}}")
    steps: list[tuple[str, Family, str | None]] = []
    for region in regions:
        steps += [(region, f, None) for f in ORDER if f != "iam"]
    return [*steps, (regions[0], "iam", None)]  # IAM is global: once


def run(
    event: Mapping[str, Any],
    settings: InventorySettings,
    *,
    clients: EstateClients,
    store: EstateStore,
    owner_stores: Stores | None = None,
) -> dict[str, Any]:
    from tally.estate.inventory import refresh

    now = utc_now()
    done, failed = [], []
    for region, family, name in plan(event, settings):
        try:
            result = refresh(
                clients,
                store,
                account=settings.estate_account,
                region=region,
                family=family,
                now=now,
                name=name,
            )
        except Exception:
            logger.exception("estate refresh failed", extra={"region": region, "family": family})
            failed.append(f"{region}/{family}")
            continue
        done.append(
            {
                "region": result.scope.region,
                "family": family,
                "records": result.records,
                "deleted": result.deleted,
            }
        )
        metrics.add_metric("EstateRecords", MetricUnit.Count, result.records)
    if owner_stores is not None and event.get("refresh") is None:
        # Who owns each function and IAM user, for the API's views: a full run only (the
        # assignments and the directory are read whole: never on a request path).
        from tally.estate.ownership import refresh_owners

        try:
            owned = refresh_owners(
                store,
                owner_stores,
                account=settings.estate_account,
                regions=settings.estate_regions,
                owner_tag_key=settings.owner_tag_key,
                owner_tag_map=settings.owner_tag_map,
                today=now.date(),
                now=now,
            )
            done.append({"region": "global", "family": "owners", "records": owned, "deleted": 0})
        except Exception:
            logger.exception("estate owners refresh failed")
            failed.append("global/owners")
    calls = clients.counter.by_region()
    metrics.add_metric("EstateAwsCalls", MetricUnit.Count, clients.counter.total)
    summary = {"refreshed": done, "failed": failed, "awsCalls": calls}
    logger.info("estate refreshed", extra=summary)
    if failed:
        raise InventoryError(f"estate refresh failed for {', '.join(failed)}")
    return summary


@metrics.log_metrics
@tracer.capture_lambda_handler
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    settings = InventorySettings.load()
    return run(event, settings, clients=_clients(settings), store=_store(), owner_stores=_stores())
