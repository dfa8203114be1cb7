"""The assembled local stack: local.json per the contract, sign-in, the printed curl recipe."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator, Mapping
from datetime import date
from pathlib import Path

import pytest

from infra.local.aws import (
    ADMIN_ROLE,
    MAX_RECEIVES,
    USER_ROLE,
    LocalAws,
    LocalUser,
    add_user,
)
from infra.local.client import load_local_json, local_stack_process, sign_in
from infra.local.stack import LocalStack, sign_in_instructions, start_local_stack
from tally import events
from tally import settings as settings_module
from tally.paging import PageKeys
from tally.settings import Settings
from tests.local.conftest import FakeHandler, call

REPO = Path(__file__).resolve().parents[2]
CONTRACT_KEYS = {
    "api_url",
    "dashboard_url",
    "aws_endpoint_url",
    "region",
    "user_pool_id",
    "client_id",
    "users",
    "today",
}
_prefixes = itertools.count()


def small_org(env: Mapping[str, str]) -> list[LocalUser]:
    aws = LocalAws.from_env(env)
    return [
        add_user(aws, "boss", "Boss-Tally-Local-1", role=ADMIN_ROLE),
        add_user(aws, "alice", "Alice-Tally-Local-1", role=USER_ROLE),
    ]


@pytest.fixture
def restore_environ() -> Iterator[None]:
    """The stack exports the handler environment into os.environ; put the old one back."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture
def alerts_handler() -> FakeHandler:
    """Stands in for ``alerts.handler.lambda_handler`` behind the stack's alerts routing."""
    return FakeHandler(answer=lambda event: {"users": 0})


@pytest.fixture
def stack(
    tmp_path: Path, restore_environ: None, alerts_handler: FakeHandler
) -> Iterator[tuple[LocalStack, FakeHandler]]:
    handler = FakeHandler()
    running = start_local_stack(
        alerts_handler=alerts_handler,
        port=0,
        aws_port=0,
        handler=handler,
        seed=small_org,
        static_dir=False,
        local_json_path=tmp_path / ".tally" / "local.json",
        prefix=f"tally-stack{next(_prefixes)}",
        access_log=False,
    )
    yield running, handler
    running.stop()


def test_local_json_holds_the_contract(stack: tuple[LocalStack, FakeHandler]) -> None:
    running, _ = stack
    assert running.local_json_path is not None

    data = load_local_json(running.local_json_path)

    assert set(data) >= CONTRACT_KEYS
    base = running.gateway.url
    assert data["api_url"] == f"{base}/api"
    assert data["dashboard_url"] == f"{base}/"
    assert data["aws_endpoint_url"] == running.moto.endpoint_url
    assert data["region"] == "us-east-1"
    assert data["today"] == "2026-11-20"  # the root conftest pins every test's date
    assert data["user_pool_id"] == running.aws.user_pool_id
    assert data["client_id"] == running.aws.client_id
    assert [(u["username"], u["role"]) for u in data["users"]] == [
        ("boss", "admin"),
        ("alice", "user"),
    ]
    for user in data["users"]:
        assert set(user) == {"username", "password", "role", "user_id", "roles"}
    # Issue 13: the roles they hold once the stack's access migration has run.
    assert [u["roles"] for u in data["users"]] == [
        [{"roleId": "admin", "scope": "org"}],
        [{"roleId": "member", "scope": "self"}],
    ]
    assert data["outbox_url"] == f"{base}/outbox"
    assert set(data["tables"]) == set(running.aws.table_names)
    # Issue 11 added nothing: the alerts' resources travel in "env" only.
    assert set(data) - CONTRACT_KEYS == {
        "outbox_url",
        "outbox_json_url",
        "jwks_url",
        "tables",
        "exports_bucket",
        "sender_email",
        "admin_topic_arn",
        "operations_topic_arn",
        "event_bus_name",
        "env",
        "pid",
    }


def test_a_signed_in_user_reaches_the_handler(stack: tuple[LocalStack, FakeHandler]) -> None:
    running, handler = stack
    assert running.local_json_path is not None
    data = load_local_json(running.local_json_path)
    alice = next(u for u in data["users"] if u["username"] == "alice")

    token = sign_in(running.local_json_path, "alice")
    response = call(running.gateway.url, "GET", "/api/me", headers={"Authorization": token})

    assert response.status == 200
    claims = handler.events[0]["requestContext"]["authorizer"]["claims"]
    assert claims["sub"] == alice["user_id"]
    assert claims["cognito:groups"] == "users"


def test_handler_environment_is_exported(stack: tuple[LocalStack, FakeHandler]) -> None:
    running, _ = stack

    for name, value in running.env.items():
        assert os.environ[name] == value
    assert os.environ["TALLY_AWS_ENDPOINT_URL"] == running.moto.endpoint_url
    assert LocalAws.from_env(running.env) == running.aws
    assert running.env["TALLY_DASHBOARD_ORIGIN"] == running.gateway.url
    assert running.local_json["env"] == running.env


def test_the_alerts_environment_points_at_the_running_stack(
    stack: tuple[LocalStack, FakeHandler],
) -> None:
    running, _ = stack
    env, aws = running.env, running.aws

    assert env["TALLY_API_URL"] == f"{running.gateway.url}/api"
    assert env["TALLY_DASHBOARD_URL"] == f"{running.gateway.url}/"
    assert env["TALLY_WEBHOOK_ALLOW_LOOPBACK"] == "true"
    assert int(env["TALLY_ALERT_EMAIL_CAP"]) > 0
    key = aws.client("kms").describe_key(KeyId=env["TALLY_WEBHOOK_KEY_ID"])["KeyMetadata"]
    assert key["Enabled"] is True
    secret = aws.client("secretsmanager").get_secret_value(
        SecretId=env["TALLY_UNSUBSCRIBE_SECRET_ID"]
    )
    assert set(json.loads(secret["SecretString"])) == {"current"}
    configuration_set = aws.client("sesv2").get_configuration_set(
        ConfigurationSetName=env["TALLY_SES_CONFIGURATION_SET"]
    )
    assert configuration_set["ConfigurationSetName"] == env["TALLY_SES_CONFIGURATION_SET"]
    queue = aws.client("sqs").get_queue_attributes(
        QueueUrl=env["TALLY_ALERTS_QUEUE_URL"], AttributeNames=["RedrivePolicy"]
    )
    assert "deadLetterTargetArn" in queue["Attributes"]["RedrivePolicy"]


def test_the_ingest_fan_out_environment_points_at_the_running_stack(
    stack: tuple[LocalStack, FakeHandler],
) -> None:
    # Given the stack's handler environment (local.json's "env", what `make ingest` reads),
    # then the coordinator and the workers find the batches queue, the work bucket and the
    # runs table in moto, made as the CDK stack makes them.
    running, _ = stack
    env, aws = running.env, running.aws
    assert running.local_json["env"]["TALLY_INGEST_QUEUE_URL"] == aws.ingest_queue_url
    sqs = aws.client("sqs")
    redrive = json.loads(
        sqs.get_queue_attributes(
            QueueUrl=env["TALLY_INGEST_QUEUE_URL"], AttributeNames=["RedrivePolicy"]
        )["Attributes"]["RedrivePolicy"]
    )
    dead_letters = sqs.get_queue_attributes(
        QueueUrl=env["TALLY_LOCAL_INGEST_DLQ_URL"], AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    assert redrive == {"deadLetterTargetArn": dead_letters, "maxReceiveCount": MAX_RECEIVES}
    assert env["TALLY_INGEST_QUEUE_URL"].endswith("-ingest-batches")
    assert env["TALLY_INGEST_WORK_BUCKET"].endswith("-ingest-work")
    aws.client("s3").head_bucket(Bucket=env["TALLY_INGEST_WORK_BUCKET"])
    table = aws.client("dynamodb").describe_table(TableName=env["TALLY_TABLE_INGESTRUNS"])
    assert [k["AttributeName"] for k in table["Table"]["KeySchema"]] == ["pk", "sk"]


def test_an_ingest_event_on_the_bus_reaches_the_stacks_alerts_function(
    stack: tuple[LocalStack, FakeHandler], alerts_handler: FakeHandler
) -> None:
    running, _ = stack
    detail = {"months": ["2026-11"], "days": ["2026-11-19"], "restatements": 0}
    events.publish(
        running.aws.client("events"), running.aws.event_bus_name, events.COSTS_INGESTED, detail
    )

    assert running.wait_idle(10)
    [event] = alerts_handler.events
    assert (event["source"], event["detail-type"]) == (events.SOURCE, events.COSTS_INGESTED)
    assert event["detail"] == detail
    assert alerts_handler.contexts[0].function_name == "tally-local-alerts"


def test_an_event_the_alerts_function_keeps_failing_on_shows_on_the_outbox(
    stack: tuple[LocalStack, FakeHandler], alerts_handler: FakeHandler
) -> None:
    running, _ = stack

    def fail(event: dict[str, object]) -> object:
        raise RuntimeError("the alerts table is missing")

    alerts_handler.answer = fail
    events.publish(
        running.aws.client("events"), running.aws.event_bus_name, events.COSTS_INGESTED, {"a": 1}
    )

    outbox = call(running.gateway.url, "GET", "/outbox.json?wait=20", timeout=35).json()
    page = call(running.gateway.url, "GET", "/outbox").body.decode()

    assert outbox["idle"] is True
    assert outbox["deadLetters"] == 1
    assert len(alerts_handler.events) == MAX_RECEIVES
    assert "wait in a dead-letter queue" in page


def test_page_token_keys_come_from_the_local_secrets_manager(
    stack: tuple[LocalStack, FakeHandler],
) -> None:
    # As in AWS (issue 9, finding 6): the handlers are told where the keys are, never the keys.
    running, _ = stack
    assert "TALLY_PAGE_TOKEN_SECRET" not in running.env
    secret = running.aws.client("secretsmanager").get_secret_value(
        SecretId=running.env["TALLY_PAGE_TOKEN_SECRET_ID"]
    )
    stored = PageKeys.from_secret(json.loads(secret["SecretString"]))
    settings_module._secrets.cache_clear()
    try:
        assert Settings.from_env().page_token_secret == stored  # the env the stack exported
    finally:
        settings_module._secrets.cache_clear()


def test_a_pinned_date_reaches_local_json_the_handlers_and_the_banner(
    tmp_path: Path, restore_environ: None
) -> None:
    running = start_local_stack(
        port=0,
        aws_port=0,
        handler=FakeHandler(),
        seed=False,
        static_dir=False,
        local_json_path=tmp_path / "local.json",
        prefix=f"tally-stack{next(_prefixes)}",
        access_log=False,
        today=date(2026, 12, 1),
    )
    try:
        data = load_local_json(tmp_path / "local.json")

        assert data["today"] == "2026-12-01"
        # `make ingest` runs the handlers with this environment: on the same date.
        assert data["env"]["TALLY_TODAY"] == "2026-12-01" == os.environ["TALLY_TODAY"]
        assert "Today is 2026-12-01: pinned" in sign_in_instructions(data)
    finally:
        running.stop()


def test_the_banner_says_when_the_date_is_the_real_one(
    stack: tuple[LocalStack, FakeHandler],
) -> None:
    running, _ = stack
    unpinned = {**running.local_json, "env": {}, "today": "2026-11-20"}

    banner = sign_in_instructions(unpinned)

    assert "Today is 2026-11-20: the real date; the ingest runs every day at 00:00 UTC" in banner


def test_dashboard_config_points_at_this_stack(stack: tuple[LocalStack, FakeHandler]) -> None:
    running, handler = stack

    response = call(running.gateway.url, "GET", "/config.json")

    assert response.status == 200
    assert response.json() == {
        "apiUrl": "/api",  # same origin, whether opened as 127.0.0.1 or localhost
        "region": running.aws.region,
        "userPoolId": running.aws.user_pool_id,
        "clientId": running.aws.client_id,
        "cognitoEndpoint": running.moto.endpoint_url,
        "revokeTokenOnSignOut": False,  # moto has no RevokeToken
    }
    assert not handler.events
    # The browser signs in at moto, so the page's policy lets it connect there.
    assert running.moto.endpoint_url in (running.gateway.content_security_policy or "")


def test_stop_removes_local_json(tmp_path: Path, restore_environ: None) -> None:
    path = tmp_path / "local.json"
    running = start_local_stack(
        port=0,
        aws_port=0,
        handler=FakeHandler(),
        seed=False,
        static_dir=False,
        local_json_path=path,
        prefix=f"tally-stack{next(_prefixes)}",
        access_log=False,
    )
    assert path.exists()

    running.stop()

    assert not path.exists()


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_printed_curl_recipe_signs_in(stack: tuple[LocalStack, FakeHandler]) -> None:
    running, handler = stack
    recipe = sign_in_instructions(running.local_json)
    commands = recipe[recipe.index("  TOKEN=") : recipe.index("Everything is also")]

    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", commands],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"ok": True}
    assert handler.events[0]["path"] == "/api/me"


def test_make_run_comes_up_and_stops_cleanly(tmp_path: Path) -> None:
    """``python -m infra.local`` as ``make run`` starts it, with the real handler and demo."""
    local_json = tmp_path / "local.json"
    log = tmp_path / "run.log"

    # The demo takes about a minute alone; more on a machine busy with other test workers.
    with local_stack_process(
        local_json, log_path=log, today=date(2026, 11, 25), timeout=180
    ) as stack:
        # In a process group of its own: a signal for the stack's group never reaches the
        # pytest worker or its Playwright driver (whose Ctrl-C handler closes Chromium).
        assert os.getpgid(stack.process.pid) == stack.process.pid != os.getpgid(0)
        data = stack.local_json
        assert set(data) >= CONTRACT_KEYS
        assert data["today"] == "2026-11-25"
        assert any(u["role"] == "admin" for u in data["users"])
        assert sum(u["role"] == "user" for u in data["users"]) >= 3
        user = next(u for u in data["users"] if u["role"] == "user")
        token = sign_in(data, user["username"])
        base = data["dashboard_url"].rstrip("/")
        unauthenticated = call(base, "GET", "/api/me")
        signed_in = call(base, "GET", "/api/me", headers={"Authorization": f"Bearer {token}"})

        assert unauthenticated.status == 401
        assert signed_in.status == 200
        assert signed_in.json()["today"] == "2026-11-25"

        # The demo's ingest announced CostsIngested before its budgets existed; the stack's
        # alerts routing evaluates it once they do (one invocation: a small organisation).
        # The server answers when the alerts have settled, within its 60 s: wait as long.
        outbox = call(base, "GET", "/outbox.json?wait=60", timeout=75).json()
        assert outbox["idle"] is True and outbox["deadLetters"] == 0
        assert any(
            e["to"] == ["alice@example.com"] and e["subject"].startswith("You have used ")
            for e in outbox["emails"]
        )
        ids = {u["username"]: u["user_id"] for u in data["users"]}
        assert {"level": "exceeded", "userId": ids["bob"], "period": "2026-11"} in [
            m["attributes"] for m in outbox["sns"]
        ]

    assert stack.process.returncode == 0, log.read_text()
    assert not local_json.exists()


def test_make_run_says_which_port_is_taken(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**os.environ, "TALLY_PORT": str(port), "TALLY_AWS_PORT": "0"}
        env["TALLY_LOCAL_JSON"] = str(tmp_path / "local.json")
        env["PYTHONPATH"] = os.pathsep.join(str(REPO / p) for p in ("layers", "functions", "."))

        result = subprocess.run(
            [sys.executable, "-m", "infra.local"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    assert result.returncode == 2
    assert f"port {port}" in result.stderr and "TALLY_PORT" in result.stderr


@pytest.mark.parametrize("value", ["2026-13-01", "25/11/2026", "tomorrow"])
def test_make_run_refuses_a_date_that_is_not_one(tmp_path: Path, value: str) -> None:
    env = {**os.environ, "TALLY_TODAY": value, "TALLY_LOCAL_JSON": str(tmp_path / "local.json")}
    env["PYTHONPATH"] = os.pathsep.join(str(REPO / p) for p in ("layers", "functions", "."))

    result = subprocess.run(
        [sys.executable, "-m", "infra.local"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode != 0
    assert f"TALLY_TODAY must be YYYY-MM-DD, not {value!r}" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "local.json").exists()


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_run_passes_today_on_only_when_given() -> None:
    def recipe(*args: str) -> str:
        result = subprocess.run(
            ["make", "-n", "run", *args],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return next(line for line in result.stdout.splitlines() if "-m infra.local" in line)

    assert recipe("TODAY=2026-11-25").startswith("TALLY_TODAY=2026-11-25 ")
    assert "TALLY_TODAY" not in recipe()


def test_a_stack_notices_when_the_process_that_started_it_is_gone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from infra.local.__main__ import _parent_gone

    monkeypatch.delenv("TALLY_LOCAL_PARENT_PID", raising=False)
    assert not _parent_gone()  # make run from a terminal: no parent named, never orphaned
    monkeypatch.setenv("TALLY_LOCAL_PARENT_PID", str(os.getppid()))
    assert not _parent_gone()
    monkeypatch.setenv("TALLY_LOCAL_PARENT_PID", str(os.getppid() + 1))
    assert _parent_gone()
