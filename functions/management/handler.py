"""The estate's management function: performs one action the API has already permitted,
previewed and will audit (``tally.estate.actions``), with its own role, which holds only the
actions of ``infra/constructs/management.py``.

Event: the API's command ``{"action", "account", "region", "name", "arn", "parameters",
"ownerTagKey", "owners", "alarmName"}``. Answer: ``{"before", "after"}`` (the resource as read
before and after the change; the estate cache now holds "after"), or ``{"error": {"code",
"message"}}`` when AWS or this function refuses the command. Invoked synchronously
(RequestResponse) by the API only.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from management.settings import ManagementSettings
from tally import observability
from tally.clock import utc_now

if TYPE_CHECKING:
    from tally.estate.clients import EstateClients
    from tally.store.estate import EstateStore

SERVICE = "tally-management"
logger = Logger(service=SERVICE)
tracer = observability.tracer(SERVICE)
observability.start_error_tracking(SERVICE)


@lru_cache(maxsize=1)
def _store() -> EstateStore:
    from tally.store.estate import dynamodb_store

    return dynamodb_store(ManagementSettings.load())


def _clients(settings: ManagementSettings) -> EstateClients:
    from tally.estate.clients import Boto3EstateClients

    return Boto3EstateClients(endpoint_url=settings.aws_endpoint_url)


def run(
    command: Mapping[str, Any],
    settings: ManagementSettings,
    *,
    clients: EstateClients,
    store: EstateStore,
) -> dict[str, Any]:
    from tally.estate.actions.aws import execute

    answer = execute(
        command,
        clients=clients,
        store=store,
        now=utc_now(),
        account=settings.estate_account,
        regions=settings.managed_regions,
        iam_path=settings.iam_path,
        alarm_topic_arn=settings.alarm_topic_arn,
    )
    # Which action on what, and whether it was refused; never parameters' values in full.
    logger.info(
        "estate action",
        extra={
            "action": command.get("action"),
            "resource": command.get("name"),
            "refused": (answer.get("error") or {}).get("code"),
            "awsCalls": clients.counter.total,
        },
    )
    return answer


@tracer.capture_lambda_handler
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    settings = ManagementSettings.load()
    return run(event, settings, clients=_clients(settings), store=_store())
