"""The demo estate in the local stack: a stack whose seed makes the demo's estate has, once
started, every family in the estate cache (the stack runs one inventory refresh after its
seed, with the handler's own code), and the findings the views will flag are there."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

import pytest

from infra.local import estate
from infra.local.aws import LocalAws
from infra.local.demo import seed_demo_estate
from infra.local.stack import LocalStack, start_local_stack
from tally.estate.findings import all_findings
from tally.estate.models import (
    EstateScope,
    FunctionMetrics,
    IamUser,
    SecurityGroup,
    from_document,
)
from tests.conftest import PINNED_TODAY

ACCOUNT = "123456789012"


def estate_only(env: Mapping[str, str]) -> list[Any]:
    seed_demo_estate(LocalAws.from_env(env), today=PINNED_TODAY)
    return []


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[LocalStack]:
    saved = dict(os.environ)  # the stack exports its handlers' environment
    running = start_local_stack(
        port=0,
        aws_port=0,
        handler=lambda event, context: {"statusCode": 404},
        seed=estate_only,
        static_dir=False,
        alerts_handler=False,
        reports_handler=False,
        local_json_path=tmp_path / "local.json",
        prefix="tally-estate",
        access_log=False,
    )
    yield running
    running.stop()
    os.environ.clear()
    os.environ.update(saved)


def test_the_demo_estate_is_in_the_cache_after_start(stack: LocalStack) -> None:
    from tally.settings import get_settings
    from tally.store.estate import dynamodb_store

    get_settings.cache_clear()
    store = dynamodb_store(get_settings())

    def docs(region: str, family: str, kind: type, prefix: str) -> list[Any]:
        return [
            from_document(kind, r.document)
            for r in store.list(EstateScope(ACCOUNT, region, family))  # type: ignore[arg-type]
            if r.key.startswith(prefix)
        ]

    found = {
        (f.resource, f.code)
        for f in all_findings(
            now=datetime.combine(PINNED_TODAY, time(12), tzinfo=UTC),
            metrics=docs("us-east-1", "metrics", FunctionMetrics, "metrics#"),
            users=docs("global", "iam", IamUser, "user#"),
            security_groups=docs("us-east-1", "network", SecurityGroup, "security-group#"),
        )
    }
    assert {
        (estate.ERRORING, "lambda.erroring"),
        (estate.IDLE, "lambda.idle"),
        (estate.NO_MFA_USER, "iam.console-without-mfa"),
        (estate.OLD_KEY_USER, "iam.access-key-not-rotated"),
        (estate.UNUSED_USER, "iam.password-unused"),
    } <= found
    assert any(code == "network.open-to-world" for _, code in found)
    get_settings.cache_clear()
