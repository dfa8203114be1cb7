"""The local moto server keeps DynamoDB's guarantees under concurrent requests, and answers
the CloudWatch statistics the dashboard asks for.

moto's TransactWriteItems backs up the tables it touches and restores them when an item's
condition fails: served concurrently, that restore silently undid writes other requests had
already been answered 200 for (the roles matrix saw a granted role vanish).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

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


def test_get_metric_data_answers_percentiles(moto_server: MotoServer) -> None:
    # moto answers any statistic but the five basic ones with None, and fails the whole
    # GetMetricData with a 500 (the estate's Lambda panel asks for duration p50/p95/p99).
    cloudwatch = aws_client("cloudwatch", moto_server.endpoint_url)
    at = datetime(2026, 11, 30, 12, tzinfo=UTC)
    dimensions = [{"Name": "FunctionName", "Value": "tally-demo"}]
    cloudwatch.put_metric_data(
        Namespace="AWS/Lambda",
        MetricData=[
            {"MetricName": "Duration", "Dimensions": dimensions, "Timestamp": at, "Value": v}
            for v in [float(n) for n in range(1, 101)]
        ],
    )

    def query(stat: str) -> dict[str, object]:
        metric = {"Namespace": "AWS/Lambda", "MetricName": "Duration", "Dimensions": dimensions}
        return {
            "Id": stat.replace(".", "_"),
            "MetricStat": {"Metric": metric, "Period": 86400, "Stat": stat},
        }

    reply = cloudwatch.get_metric_data(
        MetricDataQueries=[query(s) for s in ("p50", "p95", "p99.9", "Average")],
        StartTime=at - timedelta(hours=12),
        EndTime=at + timedelta(hours=12),
    )
    values = {r["Id"]: r["Values"] for r in reply["MetricDataResults"]}
    assert values == {"p50": [50.0], "p95": [95.0], "p99_9": [100.0], "Average": [50.5]}

    # A statistic set holds no raw values: its average stands in for the percentile.
    cloudwatch.put_metric_data(
        Namespace="AWS/Lambda",
        MetricData=[
            {
                "MetricName": "Duration",
                "Dimensions": [{"Name": "FunctionName", "Value": "tally-sets"}],
                "Timestamp": at,
                "StatisticValues": {"SampleCount": 4, "Sum": 40.0, "Minimum": 1, "Maximum": 20},
            }
        ],
    )
    dimensions[0]["Value"] = "tally-sets"
    reply = cloudwatch.get_metric_data(
        MetricDataQueries=[query("p95")],
        StartTime=at - timedelta(hours=12),
        EndTime=at + timedelta(hours=12),
    )
    assert reply["MetricDataResults"][0]["Values"] == [10.0]


def test_get_metric_data_answers_each_query_from_its_own_metric(moto_server: MotoServer) -> None:
    # The emulator hands each query only its own metric's datums (moto scans all of them per
    # period otherwise): same namespace, other metrics and other resources stay out.
    cloudwatch = aws_client("cloudwatch", moto_server.endpoint_url)
    start = datetime(2026, 11, 20, tzinfo=UTC)

    def datum(name: str, instance: str, hour: int, value: float) -> dict[str, object]:
        return {
            "MetricName": name,
            "Dimensions": [{"Name": "InstanceId", "Value": instance}],
            "Timestamp": start + timedelta(hours=hour),
            "Value": value,
        }

    cloudwatch.put_metric_data(
        Namespace="AWS/EC2",
        MetricData=[
            *(datum("CPUUtilization", "i-a", h, 10.0 + h) for h in range(4)),
            *(datum("CPUUtilization", "i-b", h, 90.0) for h in range(4)),
            *(datum("NetworkIn", "i-a", h, 1000.0) for h in range(4)),
        ],
    )
    cloudwatch.put_metric_data(Namespace="Custom", MetricData=[datum("NetworkIn", "i-a", 0, 5.0)])

    def query(qid: str, name: str, stat: str) -> dict[str, object]:
        metric = {
            "Namespace": "AWS/EC2",
            "MetricName": name,
            "Dimensions": [{"Name": "InstanceId", "Value": "i-a"}],
        }
        return {"Id": qid, "MetricStat": {"Metric": metric, "Period": 7200, "Stat": stat}}

    reply = cloudwatch.get_metric_data(
        MetricDataQueries=[
            query("cpu", "CPUUtilization", "Average"),
            query("net", "NetworkIn", "Sum"),
        ],
        StartTime=start,
        EndTime=start + timedelta(hours=4),
        ScanBy="TimestampAscending",
    )
    values = {r["Id"]: r["Values"] for r in reply["MetricDataResults"]}
    assert values == {"cpu": [10.5, 12.5], "net": [2000.0, 2000.0]}

    # A query without dimensions: moto (where CloudWatch would match only datums without any)
    # reads every resource's datums of the metric; the narrowing keeps moto's answer.
    bare = {"Namespace": "AWS/EC2", "MetricName": "CPUUtilization"}
    reply = cloudwatch.get_metric_data(
        MetricDataQueries=[
            {"Id": "all", "MetricStat": {"Metric": bare, "Period": 7200, "Stat": "Maximum"}}
        ],
        StartTime=start,
        EndTime=start + timedelta(hours=4),
    )
    assert reply["MetricDataResults"][0]["Values"] == [90.0, 90.0]


def test_item_reads_answer_as_dynamodb_does(moto_server: MotoServer) -> None:
    # The emulator's Query reads only the partition asked for and writes item answers as plain
    # JSON (moto sorts the whole table and walks every answer through its generic serializer
    # otherwise); what comes back is what DynamoDB answers: the range, its order, its pages,
    # numbers, maps, lists, and binary values (which keep moto's own serializer).
    dynamodb = aws_client("dynamodb", moto_server.endpoint_url)
    dynamodb.create_table(
        TableName="reads",
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    for owner in ("a", "b"):
        for day in range(1, 11):
            dynamodb.put_item(
                TableName="reads",
                Item={
                    "pk": {"S": f"OWNER#{owner}"},
                    "sk": {"S": f"2026-11-{day:02d}#x"},
                    "cost": {"N": "1.2345678901234567890"},
                    "tags": {"M": {"Name": {"S": "orders"}}},
                    "lines": {"L": [{"N": "1"}, {"S": "two"}]},
                },
            )
    dynamodb.put_item(
        TableName="reads",
        Item={"pk": {"S": "OWNER#a"}, "sk": {"S": "2026-11-05#blob"}, "raw": {"B": b"\x00\xff"}},
    )

    def days(**extra: object) -> tuple[list[str], dict[str, object] | None]:
        answer = dynamodb.query(
            TableName="reads",
            KeyConditionExpression="pk = :p AND sk BETWEEN :a AND :b",
            ExpressionAttributeValues={
                ":p": {"S": "OWNER#a"},
                ":a": {"S": "2026-11-03"},
                ":b": {"S": "2026-11-07~"},
            },
            **extra,
        )
        return [i["sk"]["S"] for i in answer["Items"]], answer.get("LastEvaluatedKey")

    every, last = days()
    assert every == [f"2026-11-0{d}#x" for d in (3, 4)] + [
        "2026-11-05#blob",
        "2026-11-05#x",
        "2026-11-06#x",
        "2026-11-07#x",
    ]
    assert last is None
    first, last = days(Limit=2)
    assert first == every[:2] and last is not None
    rest, _ = days(ExclusiveStartKey=last)
    assert first + rest == every
    backwards, _ = days(ScanIndexForward=False)
    assert backwards == every[::-1]

    item = dynamodb.get_item(
        TableName="reads", Key={"pk": {"S": "OWNER#b"}, "sk": {"S": "2026-11-02#x"}}
    )["Item"]
    assert item["cost"] == {"N": "1.2345678901234567890"}
    assert item["tags"] == {"M": {"Name": {"S": "orders"}}}
    assert item["lines"] == {"L": [{"N": "1"}, {"S": "two"}]}
    blob = dynamodb.get_item(
        TableName="reads", Key={"pk": {"S": "OWNER#a"}, "sk": {"S": "2026-11-05#blob"}}
    )["Item"]
    assert blob["raw"] == {"B": b"\x00\xff"}


def test_an_index_query_answers_as_dynamodb_does(moto_server: MotoServer) -> None:
    # The emulator's Query of a global index looks only at the items holding its hash key's
    # value (moto sorts and compares every item of the table otherwise); what comes back is
    # DynamoDB's: sparse (items without the attribute are not in it), the range asked, in the
    # index's order and then the table's, pages that continue where they stopped.
    dynamodb = aws_client("dynamodb", moto_server.endpoint_url)
    dynamodb.create_table(
        TableName="lines",
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": a, "AttributeType": "S"} for a in ("pk", "sk", "resource", "day")
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-resource",
                "KeySchema": [
                    {"AttributeName": "resource", "KeyType": "HASH"},
                    {"AttributeName": "day", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    for owner in ("b", "a"):
        for day in range(1, 8):
            for line in ("y", "x"):
                item = {
                    "pk": {"S": f"OWNER#{owner}"},
                    "sk": {"S": f"2026-11-{day:02d}#{line}"},
                    "day": {"S": f"2026-11-{day:02d}"},
                    "cost": {"N": "0.10"},
                }
                if line == "x" or day % 2:
                    item["resource"] = {"S": "lambda:orders"}
                dynamodb.put_item(TableName="lines", Item=item)
    # The same value as a number is another value.
    dynamodb.put_item(
        TableName="lines",
        Item={
            "pk": {"S": "N"},
            "sk": {"S": "n"},
            "day": {"S": "2026-11-03"},
            "resource": {"N": "1"},
        },
    )

    def lines(**extra: object) -> tuple[list[str], dict[str, object] | None]:
        answer = dynamodb.query(
            TableName="lines",
            IndexName="by-resource",
            KeyConditionExpression="#r = :r AND #d BETWEEN :a AND :b",
            ExpressionAttributeNames={"#r": "resource", "#d": "day"},
            ExpressionAttributeValues={
                ":r": {"S": "lambda:orders"},
                ":a": {"S": "2026-11-02"},
                ":b": {"S": "2026-11-04"},
            },
            **extra,
        )
        return [f"{i['pk']['S'][-1]}{i['sk']['S'][8:]}" for i in answer["Items"]], answer.get(
            "LastEvaluatedKey"
        )

    every, last = lines()
    assert every == ["a02#x", "b02#x", "a03#x", "a03#y", "b03#x", "b03#y", "a04#x", "b04#x"]
    assert last is None
    first, last = lines(Limit=3)
    assert first == every[:3] and last is not None
    rest, _ = lines(ExclusiveStartKey=last)
    assert first + rest == every
    backwards, _ = lines(ScanIndexForward=False)
    assert backwards == every[::-1]
    numbers = dynamodb.query(
        TableName="lines",
        IndexName="by-resource",
        KeyConditionExpression="#r = :r",
        ExpressionAttributeNames={"#r": "resource"},
        ExpressionAttributeValues={":r": {"N": "1"}},
    )
    assert [i["pk"]["S"] for i in numbers["Items"]] == ["N"]


def test_metric_data_in_slices_answers_as_moto_does(monkeypatch: pytest.MonkeyPatch) -> None:
    # The emulator asks moto for a query's range a slice at a time (moto looks through every
    # datum of the range for each period): the same values and timestamps as moto's one
    # pass, for ranges that start and end off the periods, either order, a percentile, and a
    # query that returns no data.
    import random

    import boto3
    from moto import mock_aws
    from moto.cloudwatch.models import CloudWatchBackend

    end = datetime(2026, 11, 20, tzinfo=UTC)
    rng = random.Random(3)
    datums = [
        {
            "MetricName": name,
            "Dimensions": [{"Name": "InstanceId", "Value": instance}],
            "Timestamp": end - timedelta(hours=h, minutes=rng.randint(0, 59)),
            "Value": rng.random() * 100,
        }
        for h in range(24 * 16)
        for instance in ("i-1", "i-2")
        for name in ("CPUUtilization", "NetworkIn")
    ]
    asks = [
        (15, 3600, "Average", "TimestampAscending"),
        (7, 300, "Maximum", "TimestampDescending"),
        (14, 900, "p90", "TimestampAscending"),
        (3, 86400, "Sum", "TimestampAscending"),
    ]

    def answers() -> list[object]:
        with mock_aws():
            cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
            for i in range(0, len(datums), 500):
                cloudwatch.put_metric_data(Namespace="AWS/EC2", MetricData=datums[i : i + 500])
            out = []
            for days, period, stat, order in asks:
                queries = [
                    {
                        "Id": f"m{n}",
                        "MetricStat": {
                            "Metric": {
                                "Namespace": "AWS/EC2",
                                "MetricName": name,
                                "Dimensions": [{"Name": "InstanceId", "Value": "i-1"}],
                            },
                            "Period": period,
                            "Stat": stat,
                        },
                    }
                    for n, name in enumerate(("CPUUtilization", "NetworkIn"))
                ]
                queries.append({**queries[0], "Id": "hidden", "ReturnData": False})
                reply = cloudwatch.get_metric_data(
                    MetricDataQueries=queries,
                    StartTime=end - timedelta(days=days, minutes=7),
                    EndTime=end - timedelta(minutes=3),
                    ScanBy=order,
                )
                out.append(
                    [
                        (r["Id"], r["Label"], r["Timestamps"], r["Values"], r["StatusCode"])
                        for r in reply["MetricDataResults"]
                    ]
                )
            return out

    sliced = answers()
    monkeypatch.setattr(
        CloudWatchBackend,
        "get_metric_data",
        CloudWatchBackend.get_metric_data.tally_moto,  # type: ignore[attr-defined]
    )
    assert sliced == answers()
    assert sum(len(results[0][2]) for results in sliced) > 300
