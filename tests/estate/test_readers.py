"""The readers against moto, on the demo estate (infra/local/estate.py): what each family
reads, that every List/Describe is counted, and the findings the demo is built to show."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta

import boto3
import pytest

from infra.local import estate as demo
from tally.estate import findings, readers
from tally.estate.clients import Boto3EstateClients
from tests.conftest import PINNED_TODAY

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default
NOW = datetime.combine(PINNED_TODAY, time(12), tzinfo=UTC)
START = datetime.combine(PINNED_TODAY, time(0), tzinfo=UTC)  # the demo's ages count from here


@pytest.fixture(scope="module")
def seeded() -> Iterator[demo.DemoEstate]:
    from moto import mock_aws

    with mock_aws():
        yield demo.seed_estate(
            lambda service: boto3.client(service, region_name=REGION),
            today=PINNED_TODAY,
            account=ACCOUNT,
        )


@pytest.fixture
def clients(seeded: demo.DemoEstate) -> Boto3EstateClients:
    return Boto3EstateClients()


def test_functions(clients: Boto3EstateClients) -> None:
    functions = {f.name: f for f in readers.read_functions(clients, REGION)}
    assert set(demo.FUNCTIONS) <= set(functions)
    busy = functions[demo.BUSY]
    assert (busy.runtime, busy.memory, busy.reserved_concurrency) == ("python3.12", 512, 20)
    assert busy.tags == {"Owner": "alice"}
    assert functions[demo.IDLE].reserved_concurrency is None
    # One page of functions, then concurrency and tags per function.
    counts = clients.counter.counts
    assert counts[(REGION, "lambda:list_functions")] == 1
    assert counts[(REGION, "lambda:get_function_concurrency")] == len(functions)
    assert counts[(REGION, "lambda:list_tags")] == len(functions)
    runtime = {
        f.resource: f.code for f in findings.all_findings(now=NOW, functions=functions.values())
    }
    assert runtime[demo.ERRORING] == "lambda.runtime-deprecated"  # python3.9
    assert demo.BUSY not in runtime


def test_one_function_and_a_missing_one(clients: Boto3EstateClients) -> None:
    one = readers.read_function(clients, REGION, demo.BUSY)
    assert one is not None and one.reserved_concurrency == 20
    assert readers.read_function(clients, REGION, "no-such-function") is None


def test_network(clients: Boto3EstateClients, seeded: demo.DemoEstate) -> None:
    network = readers.read_network(clients, REGION)
    subnets = {s.subnet_id: s for s in network.subnets}
    assert subnets[seeded.public_subnet_id].public is True
    assert subnets[seeded.private_subnet_id].public is False
    assert any(seeded.vpc_id in g.vpc_ids for g in network.internet_gateways)
    assert [n.subnet_id for n in network.nat_gateways if n.vpc_id == seeded.vpc_id] == [
        seeded.public_subnet_id
    ]
    assert sorted(e.endpoint_type for e in network.endpoints if e.vpc_id == seeded.vpc_id) == [
        "Gateway",
        "Interface",
    ]
    # The NAT gateway's Elastic IP, attached, and a forgotten one attached to nothing (the
    # emulator answers an empty NetworkInterfaceId for it: no attachment either).
    by_allocation = {a.allocation_id: a for a in network.addresses}
    nat_address, forgotten = seeded.allocation_ids
    assert by_allocation[nat_address].elastic and by_allocation[nat_address].attached
    assert by_allocation[forgotten].elastic and not by_allocation[forgotten].attached
    open_groups = {
        f.resource for f in findings.all_findings(now=NOW, security_groups=network.security_groups)
    }
    assert open_groups == {seeded.open_group_id}
    assert clients.counter.counts[(REGION, "ec2:describe_security_groups")] == 1


def test_iam_users_and_their_findings(clients: Boto3EstateClients) -> None:
    users = {u.name: u for u in readers.read_users(clients, REGION)}
    assert set(users) == set(demo.USERS)
    old = users[demo.OLD_KEY_USER]
    assert old.console_access is False
    assert old.groups == ("tally-demo-developers",)
    assert old.attached_policies == (f"arn:aws:iam::{ACCOUNT}:policy/tally-demo-read-buckets",)
    assert users[demo.UNUSED_USER].inline_policies == ("inline-read",)
    assert old.access_keys[0].created == START - timedelta(days=200)
    assert users[demo.NO_MFA_USER].console_access is True
    found = {(f.resource, f.code) for f in findings.all_findings(now=NOW, users=users.values())}
    assert found == {
        (demo.NO_MFA_USER, "iam.console-without-mfa"),
        (demo.UNUSED_USER, "iam.console-without-mfa"),
        (demo.UNUSED_USER, "iam.password-unused"),
        (demo.UNUSED_USER, "iam.access-key-unused"),
        (demo.OLD_KEY_USER, "iam.access-key-not-rotated"),
    }
    assert readers.read_user(clients, REGION, "nobody") is None


def test_the_account_read_lists_every_group_with_its_policies(
    clients: Boto3EstateClients,
) -> None:
    users, groups = readers.read_account_iam(clients, REGION)
    assert [(g.name, g.path, g.attached_policies) for g in groups] == [
        (demo.EMPTY_GROUP, "/audit/", ("tally-demo-read-buckets",)),
        (demo.DEVELOPERS_GROUP, "/", ()),
    ]
    # Nobody is in the auditors' group; the groups cost no call of their own
    assert not any(demo.EMPTY_GROUP in u.groups for u in users)
    assert clients.counter.counts[(REGION, "iam:get_account_authorization_details")] == 1


@pytest.mark.parametrize("moment", [time(0, 0, 1), time(11, 59), time(23, 59, 59)])
def test_the_demo_ages_read_the_same_at_any_hour_of_the_pinned_day(
    clients: Boto3EstateClients, moment: time
) -> None:
    """On a pinned date "now" is that date at the real time of day, so the demo's "200 days
    old" key must say so in the morning too (it said 199 before noon, and CI ran at night)."""
    users = {u.name: u for u in readers.read_users(clients, REGION)}
    now = datetime.combine(PINNED_TODAY, moment, tzinfo=UTC)
    messages = {
        (f.resource, f.code): f.message
        for f in findings.all_findings(now=now, users=users.values())
    }
    assert "is 200 days old" in messages[(demo.OLD_KEY_USER, "iam.access-key-not-rotated")]
    assert "unused for 60 days" in messages[(demo.UNUSED_USER, "iam.password-unused")]


def test_the_account_read_gives_the_models_of_the_one_by_one_read(
    clients: Boto3EstateClients,
) -> None:
    users = readers.read_users(clients, REGION)
    one_by_one = [readers.read_user(Boto3EstateClients(), REGION, u.name) for u in users]
    assert users == one_by_one
    # Groups, policies and tags came from one GetAccountAuthorizationDetails, not per user.
    counts = clients.counter.counts
    assert counts[(REGION, "iam:get_account_authorization_details")] == 1
    for listed in ("groups_for_user", "attached_user_policies", "user_policies", "user_tags"):
        assert counts[(REGION, f"iam:list_{listed}")] == 0, listed
    keys = sum(len(u.access_keys) for u in users)
    assert clients.counter.total == 2 + 3 * len(users) + keys


def test_a_user_created_between_the_two_reads_is_read_whole(
    clients: Boto3EstateClients,
) -> None:
    # Given a user created just after GetAccountAuthorizationDetails answered (before ListUsers)
    iam = boto3.client("iam", region_name=REGION)

    def create_between(**_: object) -> None:
        iam.create_user(UserName="created-between", Tags=[{"Key": "Owner", "Value": "bob"}])
        iam.add_user_to_group(GroupName="tally-demo-developers", UserName="created-between")

    clients.client("iam", REGION).meta.events.register(
        "after-call.iam.GetAccountAuthorizationDetails", create_between
    )
    try:
        # When the account is read
        users = {u.name: u for u in readers.read_users(clients, REGION)}
    finally:
        iam.remove_user_from_group(GroupName="tally-demo-developers", UserName="created-between")
        iam.delete_user(UserName="created-between")
    # Then that user has its groups and tags from the per-user lists, the others none
    late = users["created-between"]
    assert (late.groups, late.tags) == (("tally-demo-developers",), {"Owner": "bob"})
    assert clients.counter.counts[(REGION, "iam:list_groups_for_user")] == 1
    assert clients.counter.counts[(REGION, "iam:list_user_tags")] == 1


def test_metrics_in_one_call(clients: Boto3EstateClients) -> None:
    end = datetime.combine(PINNED_TODAY, time(), tzinfo=UTC)
    got = readers.read_function_metrics(
        clients, REGION, list(demo.FUNCTIONS), end - timedelta(days=7), end
    )
    by_name = {m.function: (m.invocations, m.errors) for m in got}
    assert by_name == {demo.BUSY: (35000, 21), demo.ERRORING: (1400, 280), demo.IDLE: (0, 0)}
    durations = {m.function: (m.duration_avg_ms, m.duration_max_ms) for m in got}
    # The demo's durations (the right-sizing input); a function never invoked has none.
    assert durations == {
        demo.BUSY: (40.0, 90.0),
        demo.ERRORING: (2000.0, 2900.0),
        demo.IDLE: (None, None),
    }
    assert clients.counter.counts[(REGION, "cloudwatch:get_metric_data")] == 1
    codes = {f.resource: f.code for f in findings.all_findings(now=NOW, metrics=got)}
    assert codes == {demo.ERRORING: "lambda.erroring", demo.IDLE: "lambda.idle"}


def test_metrics_are_batched_500_queries_a_call(clients: Boto3EstateClients) -> None:
    end = datetime.combine(PINNED_TODAY, time(), tzinfo=UTC)
    names = [f"fn-{i}" for i in range(126)]  # 504 queries (four a function): two calls
    got = readers.read_function_metrics(clients, REGION, names, end - timedelta(days=1), end)
    assert len(got) == 126
    assert clients.counter.counts[(REGION, "cloudwatch:get_metric_data")] == 2


def test_a_role_arn_reads_with_the_assumed_roles_credentials(seeded: demo.DemoEstate) -> None:
    # The cross-account seam: the role is assumed once and every client uses its credentials
    # (moto's STS issues temporary ASIA... keys). Only this account is read in tests.
    role = boto3.client("iam", region_name=REGION).create_role(
        RoleName="tally-estate-reader", AssumeRolePolicyDocument="{}"
    )["Role"]["Arn"]
    clients = Boto3EstateClients(role_arn=role)
    assert {f.name for f in readers.read_functions(clients, REGION)} >= set(demo.FUNCTIONS)
    credentials = clients.client("lambda", REGION)._request_signer._credentials
    assert credentials.access_key.startswith("ASIA")
    assert clients.client("lambda", REGION) is clients.client("lambda", REGION)
