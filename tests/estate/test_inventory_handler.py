"""The inventory function on moto: a scheduled run fills the cache for every family; a
refresh event re-reads one family or one resource; a refresh replaces what is gone."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from inventory import handler
from inventory.settings import InventorySettings

from infra.local import estate as demo
from tally.estate.models import EstateScope, IamUser, LambdaFunction, from_document
from tally.settings import ConfigurationError, Settings
from tally.store.estate import dynamodb_store
from tests.conftest import PINNED_TODAY
from tests.harness import LambdaContext

ACCOUNT = "123456789012"
SCHEDULED = {"source": "tally.schedule", "executionId": "x", "scheduledTime": "t"}


# Seeded once per module: the module's moto keeps the demo estate while the tables are
# emptied for each test (tests/conftest.py ``aws``).
_SEEDED: dict[str, demo.DemoEstate] = {}


@pytest.fixture
def estate(aws: Settings, monkeypatch: pytest.MonkeyPatch) -> demo.DemoEstate:
    monkeypatch.setenv("TALLY_ESTATE_ACCOUNT", ACCOUNT)
    if "demo" not in _SEEDED:
        _SEEDED["demo"] = demo.seed_estate(
            lambda s: boto3.client(s, region_name="us-east-1"), today=PINNED_TODAY, account=ACCOUNT
        )
    return _SEEDED["demo"]


def keys(aws: Settings, region: str, family: str) -> list[str]:
    store = dynamodb_store(aws)
    return [r.key for r in store.list(EstateScope(ACCOUNT, region, family))]  # type: ignore[arg-type]


def invoke(event: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = handler.lambda_handler(event, LambdaContext())
    return result


def test_a_scheduled_run_caches_every_family(aws: Settings, estate: demo.DemoEstate) -> None:
    result = invoke(SCHEDULED)
    assert result["failed"] == []
    assert [(r["region"], r["family"]) for r in result["refreshed"]] == [
        ("us-east-1", "lambda"),
        ("us-east-1", "metrics"),
        ("us-east-1", "network"),
        ("global", "iam"),
        ("global", "owners"),
    ]
    # Who owns each function and IAM user, for the API's views (tally.estate.ownership).
    assert {f"owner#lambda:{n}" for n in demo.FUNCTIONS} | {
        f"iam-user#{n}" for n in demo.USERS
    } <= set(keys(aws, "global", "owners"))
    assert {f"function#{n}" for n in demo.FUNCTIONS} <= set(keys(aws, "us-east-1", "lambda"))
    assert {f"metrics#{n}" for n in demo.FUNCTIONS} <= set(keys(aws, "us-east-1", "metrics"))
    network = keys(aws, "us-east-1", "network")
    assert f"security-group#{estate.open_group_id}" in network
    assert f"subnet#{estate.public_subnet_id}" in network
    assert keys(aws, "global", "iam") == sorted(f"user#{u}" for u in demo.USERS)
    assert result["awsCalls"]["us-east-1"] > 0
    # The documents read back as the models.
    store = dynamodb_store(aws)
    (busy,) = [
        r
        for r in store.list(EstateScope(ACCOUNT, "us-east-1", "lambda"))
        if r.key == f"function#{demo.BUSY}"
    ]
    assert from_document(LambdaFunction, busy.document).reserved_concurrency == 20
    user = from_document(IamUser, store.list(EstateScope(ACCOUNT, "global", "iam"))[0].document)
    assert user.created.tzinfo is not None


def test_refresh_one_resource_and_a_deleted_one(aws: Settings, estate: demo.DemoEstate) -> None:
    invoke({"refresh": {"region": "us-east-1", "family": "lambda"}})
    lam = boto3.client("lambda", region_name="us-east-1")
    lam.put_function_concurrency(FunctionName=demo.IDLE, ReservedConcurrentExecutions=0)
    invoke({"refresh": {"region": "us-east-1", "family": "lambda", "name": demo.IDLE}})
    store = dynamodb_store(aws)
    idle = next(
        r
        for r in store.list(EstateScope(ACCOUNT, "us-east-1", "lambda"))
        if r.key == f"function#{demo.IDLE}"
    )
    assert idle.document["reserved_concurrency"] == 0
    result = invoke({"refresh": {"region": "us-east-1", "family": "iam", "name": "gone-user"}})
    assert result["refreshed"] == [
        {"region": "global", "family": "iam", "records": 0, "deleted": 1}
    ]
    lam.delete_function_concurrency(FunctionName=demo.IDLE)


@pytest.mark.parametrize(
    "event",
    [
        {"refresh": {"region": "eu-west-1", "family": "lambda"}},
        {"refresh": {"region": "us-east-1", "family": "s3"}},
        {"refresh": "lambda"},
        {"source": "somebody.else"},
    ],
)
def test_a_refresh_outside_the_settings_or_another_event_is_refused(
    aws: Settings, estate: demo.DemoEstate, event: dict[str, Any]
) -> None:
    with pytest.raises(handler.BadRequest):
        invoke(event)


def test_settings(monkeypatch: pytest.MonkeyPatch, aws: Settings) -> None:
    monkeypatch.setenv("TALLY_ESTATE_ACCOUNT", ACCOUNT)
    monkeypatch.setenv("TALLY_ESTATE_REGIONS", "eu-west-1, us-east-1")
    assert InventorySettings.from_env().estate_regions == ("eu-west-1", "us-east-1")
    monkeypatch.delenv("TALLY_ESTATE_REGIONS")
    assert InventorySettings.from_env().estate_regions == ("us-east-1",)
    monkeypatch.setenv("TALLY_ESTATE_ROLE_ARN", "not-a-role")
    with pytest.raises(ConfigurationError):
        InventorySettings.from_env()
    monkeypatch.delenv("TALLY_ESTATE_ACCOUNT")
    monkeypatch.delenv("TALLY_ESTATE_ROLE_ARN")
    with pytest.raises(ConfigurationError):
        InventorySettings.from_env()
