"""The local moto server keeps DynamoDB's guarantees under concurrent requests.

moto's TransactWriteItems backs up the tables it touches and restores them when an item's
condition fails: served concurrently, that restore silently undid writes other requests had
already been answered 200 for (the roles matrix saw a granted role vanish).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError

from infra.local.aws import MotoServer, aws_client


def test_a_failed_transaction_never_undoes_a_concurrent_write(moto_server: MotoServer) -> None:
    ddb = aws_client("dynamodb", moto_server.endpoint_url)
    table = "tally-moto-atomicity"
    ddb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.put_item(TableName=table, Item={"pk": {"S": "guard"}})

    def failing(n: int) -> None:
        # A put, then a condition that never holds: the whole transaction is cancelled.
        with pytest.raises(ClientError):
            ddb.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": table, "Item": {"pk": {"S": f"never-{n}"}}}},
                    {
                        "ConditionCheck": {
                            "TableName": table,
                            "Key": {"pk": {"S": "guard"}},
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                ]
            )

    def write(n: int) -> None:
        ddb.put_item(TableName=table, Item={"pk": {"S": f"kept-{n}"}})

    with ThreadPoolExecutor(max_workers=8) as pool:
        jobs = [pool.submit(failing if n % 2 else write, n) for n in range(400)]
        for job in jobs:
            job.result()

    kept = {
        item["pk"]["S"]
        for page in ddb.get_paginator("scan").paginate(TableName=table)
        for item in page["Items"]
    }
    assert kept == {"guard"} | {f"kept-{n}" for n in range(0, 400, 2)}
