"""Issue 15's management actions through the running local stack (``make run``'s demo in a
subprocess, Cognito tokens, real HTTP): a Lambda action and an IAM action, each previewed,
performed, visible in the emulator and in the estate cache's view of it, audited, and told to
the resource's owner; refused for a member on someone else's function and for an admin
without the IAM permission."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from infra.local import estate as demo
from infra.local.aws import LocalAws
from infra.local.client import local_stack_process, sign_in

pytestmark = pytest.mark.local_stack

TODAY = date(2026, 11, 25)
URL = "/estate/actions"


class Stack:
    def __init__(self, local_json: dict[str, Any]) -> None:
        self.local_json = local_json
        self.aws = LocalAws.from_env(local_json["env"])
        self.ids = {u["username"]: u["user_id"] for u in local_json["users"]}

    def call(self, user: str, path: str, body: Any = None, method: str = "POST") -> Any:
        request = urllib.request.Request(
            self.local_json["api_url"] + path,
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {sign_in(self.local_json, user)}",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    where = tmp_path_factory.mktemp("estate-actions")
    with local_stack_process(
        where / "local.json", log_path=where / "stack.log", timeout=240, today=TODAY
    ) as running:
        yield Stack(running.local_json)


def test_a_member_pauses_their_function_and_bob_may_not(stack: Stack) -> None:
    action = {
        "action": "lambda:PutFunctionConcurrency",
        "target": demo.BUSY,
        "parameters": {"reservedConcurrency": 0},
    }
    status, body = stack.call("bob", URL, {**action, "preview": False})
    assert status == 403, body
    status, preview = stack.call("alice", URL, {**action, "preview": True})
    assert status == 200, preview
    assert preview["changes"] == [{"field": "reservedConcurrency", "before": 20, "after": 0}]
    lam = stack.aws.client("lambda")
    assert (
        lam.get_function_concurrency(FunctionName=demo.BUSY)["ReservedConcurrentExecutions"] == 20
    )
    status, done = stack.call("alice", URL, {**action, "preview": False})
    assert status == 200, done
    assert done["after"]["reserved_concurrency"] == 0
    assert lam.get_function_concurrency(FunctionName=demo.BUSY)["ReservedConcurrentExecutions"] == 0
    # The cache holds the change: a preview now starts from 0.
    status, again = stack.call("alice", URL, {**action, "preview": True})
    assert again["changes"][0]["before"] == 0
    # Audited with before and after (the admin reads the organisation's log).
    status, audit = stack.call("admin", "/audit?limit=20", method="GET")
    assert status == 200, audit
    entry = next(e for e in audit["items"] if e["action"] == "estate.action")
    assert json.loads(entry["details"]["before"])["reserved_concurrency"] == 20


def test_an_iam_action_needs_its_permission_and_is_told_to_the_owner(stack: Stack) -> None:
    iam = stack.aws.client("iam")
    (key,) = iam.list_access_keys(UserName=demo.OLD_KEY_USER)["AccessKeyMetadata"]
    action = {
        "action": "iam:UpdateAccessKey",
        "target": demo.OLD_KEY_USER,
        "parameters": {"accessKeyId": key["AccessKeyId"], "status": "Inactive"},
        "preview": False,
    }
    # alice (a member) has no IAM permission; the demo admin is granted them (a custom role).
    status, body = stack.call("alice", URL, action)
    assert status == 403, body
    status, done = stack.call("admin", URL, action)
    assert status == 200, done
    assert done["after"]["access_keys"][0]["status"] == "Inactive"
    (after,) = iam.list_access_keys(UserName=demo.OLD_KEY_USER)["AccessKeyMetadata"]
    assert after["Status"] == "Inactive"
    assert done["notified"] == [stack.ids["alice"]]  # its Owner tag names alice
    status, notes = stack.call("alice", "/notifications", method="GET")
    assert any(n["kind"] == "estate-action" for n in notes["items"]), notes
