"""``make bench SECTIONS=estate`` at a small size (tests/bench/estate.py): the section still
runs, and the inventory's calls per region are the decision log's formula, so a reader that
starts calling AWS per resource more than it says fails here, not only in a figure."""

from __future__ import annotations

import boto3

from tally.settings import Settings
from tally.store.estate import dynamodb_store
from tests.bench import estate as bench

SIZE = bench.Size(functions=120, vpcs=3, users=30)


def test_the_refresh_makes_the_calls_the_formula_says(aws: Settings) -> None:
    made = bench.populate(lambda s, r: boto3.client(s, region_name=r), SIZE)
    assert made.counts["function"] == 120 and made.counts["user"] == 30
    assert made.access_keys == 24  # seven in ten with a key, one in ten with two

    steps = bench.refresh_all(dynamodb_store(aws))

    assert [(s.region, s.family) for s in steps] == [
        ("us-east-1", "lambda"),
        ("us-east-1", "metrics"),
        ("us-east-1", "network"),
        ("eu-west-1", "lambda"),
        ("eu-west-1", "metrics"),
        ("eu-west-1", "network"),
        ("global", "iam"),
    ]
    for step in steps:
        functions = SIZE.functions if step.region == bench.REGION else 0
        assert step.aws_calls == bench.formula_calls(made, step.family, functions), step
        assert "Scan" not in step.dynamodb
        # One BatchWriteItem per 25 records, at most 1 KB each: one write unit per record.
        assert step.dynamodb.get("BatchWriteItem", 0) == -(-step.records // 25)
        assert step.write_units == step.records
    lam, iam = steps[0], steps[-1]
    assert (lam.records, iam.records) == (SIZE.functions, SIZE.users)
    # moto answers ListFunctions in one page; AWS pages it by 50.
    assert lam.calls["lambda:list_functions"] == 1 and lam.aws_calls == 3 + 2 * 120
    assert iam.aws_calls == 2 + 3 * 30 + 24

    rows = dict(bench.report(made, steps))
    assert rows["AWS calls per region at AWS page sizes (IAM: global)"] == {
        "us-east-1": 3 + 2 * 120 + 1 + 10,
        "eu-west-1": 1 + 10,
        "global": 2 + 3 * 30 + 24,
    }
    # Both IAM readers on this mix of users (groups, MFA, keys, paths, policies, tags).
    compared = dict(bench.iam_readers_compared(made))
    assert compared["IAM readers: the same models (so the same findings)"] is True
