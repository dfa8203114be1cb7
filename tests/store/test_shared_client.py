"""Every item class and every transaction of a process talk to DynamoDB through one botocore
client per endpoint (pynamodb alone makes a session and a client for each)."""

from __future__ import annotations

from pynamodb.connection import Connection

from tally.settings import Settings
from tally.store import Stores
from tally.store.base import shared_client
from tally.store.budgets import BudgetItem
from tally.store.costs import CostRecordItem


def test_items_and_transactions_share_one_client(aws: Settings, dynamo_stores: Stores) -> None:
    budgets = BudgetItem._get_connection().connection.client
    costs = CostRecordItem._get_connection().connection.client
    transaction = dynamo_stores.budgets._tx()._connection.client  # type: ignore[attr-defined]
    assert budgets is costs is transaction


def test_another_endpoint_gets_its_own_client(aws: Settings) -> None:
    here = shared_client(Connection(region=aws.region, host=aws.aws_endpoint_url))
    elsewhere = shared_client(Connection(region=aws.region, host="http://127.0.0.1:1"))
    assert here.client is not elsewhere.client
    assert elsewhere.client.meta.endpoint_url == "http://127.0.0.1:1"
