"""The estate's management actions, in the domain, against moto's AWS: each action previewed
(nothing changes), performed (visible in moto's state and in the estate cache), audited with
before and after, told to the owner when someone else acts, and refused for a caller without
its permission or on a target outside its scope. In-memory stores for Tally's own data."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

import boto3
import pytest

from infra.local import estate as demo
from tally.allocation import OwnerTagRule
from tally.authz.authorizer import Authorizer
from tally.errors import Conflict, Disabled, Forbidden, Invalid, NotFound
from tally.estate import inventory
from tally.estate.actions import ActionRequest, run_action
from tally.estate.actions.aws import execute
from tally.estate.actions.settings import ActionSettings
from tally.estate.clients import Boto3EstateClients
from tally.estate.models import EstateScope
from tally.identity import Caller
from tally.models import ORG, Assignment, AuditEntry
from tally.org.model import AccessProfile, Grant, OrgSnapshot, RoleDef, Scope
from tally.store import Stores, memory_stores
from tally.view import View
from tests.conftest import ADMIN, ALICE, BOB, NOW, PINNED_TODAY, profile

ACCOUNT = "123456789012"
REGION = "us-east-1"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:tally-estate-alarms"
ALL_ON = ActionSettings(
    families=frozenset({"lambda", "iam", "alarms", "refresh"}),
    account=ACCOUNT,
    regions=(REGION,),
    alarm_topic_arn=TOPIC,
    in_process=True,
)
IAM_ACTIONS = (
    "iam:UpdateAccessKey",
    "iam:DeleteAccessKey",
    "iam:DeleteLoginProfile",
    "iam:AddUserToGroup",
    "iam:RemoveUserFromGroup",
    "iam:UpdateLoginProfile",
    "iam:CreateUser",
    "iam:DeleteUser",
)


class DirectRunner:
    """The management and inventory functions' own code, called here (no Lambda)."""

    def __init__(self, stores: Stores, settings: ActionSettings) -> None:
        self.stores = stores
        self.settings = settings
        self.commands: list[dict[str, Any]] = []

    def perform(self, command: dict[str, Any]) -> dict[str, Any]:
        self.commands.append(command)
        # Through JSON, as Lambda would carry it.
        return execute(
            json.loads(json.dumps(command)),
            clients=Boto3EstateClients(),
            store=self.stores.estate,
            now=NOW,
            account=ACCOUNT,
            regions=(REGION,),
            iam_path=self.settings.iam_path,
            alarm_topic_arn=TOPIC,
        )

    def refresh(self, event: dict[str, Any]) -> dict[str, Any]:
        asked = event["refresh"]
        done = inventory.refresh(
            Boto3EstateClients(),
            self.stores.estate,
            account=ACCOUNT,
            region=asked["region"],
            family=asked["family"],
            now=NOW,
            name=asked.get("name"),
        )
        return {"refreshed": [{"records": done.records}], "failed": []}


class GrantSource:
    """Access facts where ``holder`` holds ``role`` at the organisation (and nobody else has
    explicit grants: the token's groups give the default roles)."""

    def __init__(self, holder: str, role: RoleDef, scope: str = "org") -> None:
        builtin = role.role_id in ("admin", "member")
        self._snapshot = OrgSnapshot(roles={} if builtin else {role.role_id: role}, version=7)
        self._profile = AccessProfile(holder, grants=(Grant(role.role_id, Scope.parse(scope)),))

    def snapshot(self) -> OrgSnapshot:
        return self._snapshot

    def profiles(self, user_ids: Any) -> dict[str, AccessProfile]:
        return {u: self._profile for u in user_ids if u == self._profile.user_id}


def granted(caller: Caller, *permissions: str) -> Caller:
    """``caller`` holding a custom role of ``permissions`` at the organisation."""
    role = RoleDef("estate-iam", "Estate IAM", "", frozenset(permissions))
    return replace(caller, authorizer=Authorizer(caller, GrantSource(caller.user_id, role)))


IAM_ADMIN = granted(ADMIN, *(f"estate:{a}" for a in IAM_ACTIONS))


@dataclass
class Estate:
    stores: Stores
    runner: DirectRunner
    settings: ActionSettings = ALL_ON

    def run(self, caller: Caller, action: str, target: str, preview: bool = False, **params: Any):  # type: ignore[no-untyped-def]
        return run_action(
            View(caller, self.stores, PINNED_TODAY),
            ActionRequest(action, target, params, preview),
            settings=self.settings,
            runner=self.runner,
            tag_rule=OwnerTagRule(),
            clock=lambda: NOW,
        )

    def audit(self) -> list[Any]:
        return self.stores.audit.list_all(100).items

    def cached(self, family: str, key: str) -> dict[str, Any] | None:
        scope = inventory.scope_of(ACCOUNT, REGION, family)  # type: ignore[arg-type]
        record = self.stores.estate.get(scope, key)
        return record.document if record else None


@pytest.fixture
def estate() -> Iterator[Estate]:
    """A fresh emulator with the demo estate, cached as the inventory reads it."""
    from moto import mock_aws

    with mock_aws():
        demo.seed_estate(
            lambda s: boto3.client(s, region_name=REGION), today=PINNED_TODAY, account=ACCOUNT
        )
        boto3.client("sns", region_name=REGION).create_topic(Name="tally-estate-alarms")
        stores = memory_stores()
        for c in (ALICE, BOB, ADMIN):
            stores.users.put(profile(c))
        clients = Boto3EstateClients()
        for family in ("lambda", "metrics", "iam"):
            inventory.refresh(
                clients, stores.estate, account=ACCOUNT, region=REGION, family=family, now=NOW
            )
        yield Estate(stores, DirectRunner(stores, ALL_ON))


def lam() -> Any:
    return boto3.client("lambda", region_name=REGION)


def iam() -> Any:
    return boto3.client("iam", region_name=REGION)


# ---- the path's refusals -------------------------------------------------------------------


def test_a_family_turned_off_is_refused_with_its_own_problem(estate: Estate) -> None:
    estate.settings = replace(ALL_ON, families=frozenset({"iam"}))
    with pytest.raises(Disabled) as refused:
        estate.run(ALICE, "lambda:PutFunctionConcurrency", demo.BUSY, reservedConcurrency=0)
    assert "TALLY_ESTATE_ACTIONS" in refused.value.detail
    assert isinstance(refused.value, Conflict)  # answered 409
    assert (
        lam().get_function_concurrency(FunctionName=demo.BUSY)["ReservedConcurrentExecutions"] == 20
    )


@pytest.mark.parametrize(
    ("action", "params", "field"),
    [
        ("lambda:StopEverything", {}, "action"),
        ("lambda:PutFunctionConcurrency", {}, "parameters.reservedConcurrency"),
        (
            "lambda:PutFunctionConcurrency",
            {"reservedConcurrency": -1},
            "parameters.reservedConcurrency",
        ),
        (
            "lambda:PutFunctionConcurrency",
            {"reservedConcurrency": True},
            "parameters.reservedConcurrency",
        ),
        ("lambda:UpdateFunctionConfiguration", {}, "parameters"),
        ("lambda:UpdateFunctionConfiguration", {"memory": 64}, "parameters.memory"),
        ("lambda:UpdateFunctionConfiguration", {"timeout": 901}, "parameters.timeout"),
        ("lambda:UpdateFunctionConfiguration", {"memory": 256, "size": 1}, "parameters.size"),
        (
            "cloudwatch:PutMetricAlarm",
            {"metric": "Errors", "threshold": "x"},
            "parameters.threshold",
        ),
        ("cloudwatch:PutMetricAlarm", {"metric": "CPU", "threshold": 1}, "parameters.metric"),
    ],
)
def test_bad_input_is_422_on_its_field_and_changes_nothing(
    estate: Estate, action: str, params: dict[str, Any], field: str
) -> None:
    with pytest.raises(Invalid) as refused:
        estate.run(ADMIN, action, demo.BUSY, **params)
    assert [e.field for e in refused.value.errors] == [field]
    assert estate.runner.commands == [] and estate.audit() == []


def test_a_target_not_in_the_cache_is_404(estate: Estate) -> None:
    with pytest.raises(NotFound):
        estate.run(ADMIN, "lambda:PutFunctionConcurrency", "no-such-fn", reservedConcurrency=1)
    with pytest.raises(NotFound):
        estate.run(IAM_ADMIN, "iam:DeleteUser", "no-such-user")


# ---- Lambda --------------------------------------------------------------------------------


def test_a_member_pauses_their_own_function_preview_first(estate: Estate) -> None:
    # Given alice's function (Owner tag "alice") with 20 reserved
    preview = estate.run(
        ALICE, "lambda:PutFunctionConcurrency", demo.BUSY, preview=True, reservedConcurrency=0
    )
    assert preview.owners == ("u-alice",)
    assert [(c.field, c.before, c.after) for c in preview.changes] == [
        ("reservedConcurrency", 20, 0)
    ]
    assert estate.runner.commands == [] and estate.audit() == []  # a preview calls nothing
    # When she performs it
    done = estate.run(ALICE, "lambda:PutFunctionConcurrency", demo.BUSY, reservedConcurrency=0)
    # Then AWS, the cache and the audit log agree; nobody else is told (it is hers)
    assert (
        lam().get_function_concurrency(FunctionName=demo.BUSY)["ReservedConcurrentExecutions"] == 0
    )
    assert estate.cached("lambda", f"function#{demo.BUSY}")["reserved_concurrency"] == 0
    (entry,) = estate.audit()
    assert (entry.subject_user_id, entry.actor, entry.action) == (
        "u-alice",
        "u-alice",
        "estate.action",
    )
    assert json.loads(entry.details["before"])["reserved_concurrency"] == 20
    assert json.loads(entry.details["after"])["reserved_concurrency"] == 0
    assert done.notified == ()


def test_someone_else_acting_on_a_function_tells_its_owner(estate: Estate) -> None:
    preview = estate.run(
        ADMIN, "lambda:UpdateFunctionConfiguration", demo.BUSY, preview=True, memory=256
    )
    # The busy function averages 40 ms at 512 MB: the suggestion halves the memory.
    sizing = preview.sizing
    assert sizing is not None and sizing.memory == 256
    assert sizing.monthly_cost_now is not None and sizing.monthly_cost_requested is not None
    assert sizing.monthly_cost_requested < sizing.monthly_cost_now
    assert sizing.monthly_cost_suggested == sizing.monthly_cost_requested
    done = estate.run(ADMIN, "lambda:UpdateFunctionConfiguration", demo.BUSY, memory=256, timeout=5)
    config = lam().get_function_configuration(FunctionName=demo.BUSY)
    assert (config["MemorySize"], config["Timeout"]) == (256, 5)
    assert estate.cached("lambda", f"function#{demo.BUSY}")["memory"] == 256
    assert done.notified == ("u-alice",)
    (note,) = estate.stores.notifications.list("u-alice", limit=10, start_key=None).items
    assert note.kind == "estate-action" and demo.BUSY in note.title


def test_a_member_may_not_manage_someone_elses_or_an_unowned_function(estate: Estate) -> None:
    for caller, function in ((BOB, demo.BUSY), (ALICE, demo.IDLE)):
        with pytest.raises(Forbidden):
            estate.run(caller, "lambda:PutFunctionConcurrency", function, reservedConcurrency=0)
    assert estate.runner.commands == [] and estate.audit() == []
    assert (
        lam().get_function_concurrency(FunctionName=demo.BUSY)["ReservedConcurrentExecutions"] == 20
    )


def test_an_admin_tags_an_unowned_function_and_its_new_owner_hears_of_it(
    estate: Estate,
) -> None:
    arn = estate.cached("lambda", f"function#{demo.IDLE}")["arn"]  # by ARN this time
    done = estate.run(ADMIN, "lambda:TagResource", arn, owner="bob")
    assert lam().list_tags(Resource=arn)["Tags"] == {"Owner": "bob"}
    assert done.owners == () and done.notified == ("u-bob",)
    (entry,) = estate.audit()
    assert entry.subject_user_id == ORG  # it was nobody's
    # From now on it is bob's to manage.
    estate.run(BOB, "lambda:PutFunctionConcurrency", demo.IDLE, reservedConcurrency=0)


def test_removing_reserved_concurrency(estate: Estate) -> None:
    estate.run(ALICE, "lambda:DeleteFunctionConcurrency", demo.BUSY)
    assert "ReservedConcurrentExecutions" not in lam().get_function_concurrency(
        FunctionName=demo.BUSY
    )
    with pytest.raises(Conflict):  # nothing left to remove
        estate.run(ALICE, "lambda:DeleteFunctionConcurrency", demo.BUSY)


def test_an_arn_of_another_account_is_refused(estate: Estate) -> None:
    with pytest.raises(Forbidden):
        estate.run(
            ADMIN,
            "lambda:PutFunctionConcurrency",
            f"arn:aws:lambda:{REGION}:999999999999:function:{demo.BUSY}",
            reservedConcurrency=0,
        )


# ---- alarms and refresh ----------------------------------------------------------------------


def test_a_member_sets_an_alarm_on_their_function_notifying_through_tally(
    estate: Estate,
) -> None:
    done = estate.run(ALICE, "cloudwatch:PutMetricAlarm", demo.BUSY, metric="Errors", threshold=5)
    (alarm,) = boto3.client("cloudwatch", region_name=REGION).describe_alarms()["MetricAlarms"]
    assert alarm["AlarmName"] == done.after["name"]
    assert alarm["AlarmActions"] == [TOPIC]
    assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": demo.BUSY}]
    assert "owners=u-alice" in alarm["AlarmDescription"]
    with pytest.raises(Forbidden):  # not on bob's behalf
        estate.run(BOB, "cloudwatch:PutMetricAlarm", demo.BUSY, metric="Errors", threshold=5)


# ---- alarms on any resource with a metrics panel (EC2, RDS, S3) -----------------------------

INSTANCE = "i-0123456789abcdef0"
BUCKET = "alice-data.example"


def assign(
    stores: Stores, user: str, kind: str, resource: str, n: int = 1, share: int = 100
) -> None:
    made = Assignment(
        f"as{n}", user, kind, resource, Decimal(share), None, "u-admin", NOW, PINNED_TODAY
    )
    stores.assignments.create(
        made, AuditEntry(user, NOW, "u-admin", "assignment.created", f"as{n}", {})
    )


def cloudwatch() -> Any:
    return boto3.client("cloudwatch", region_name=REGION)


def estate_actions(estate: Estate) -> list[Any]:
    return [e for e in estate.audit() if e.action == "estate.action"]


def test_an_alarm_on_an_owned_instance_by_the_resource_pages_arn(estate: Estate) -> None:
    assign(estate.stores, "u-alice", "ec2", INSTANCE)
    arn = f"arn:aws:ec2:::instance/{INSTANCE}"  # no region nor account, as the page sends it
    seen = estate.run(
        ALICE,
        "cloudwatch:PutMetricAlarm",
        arn,
        preview=True,
        metric="CPUUtilization",
        threshold=80,
    )
    (change,) = seen.changes
    assert change.after["namespace"] == "AWS/EC2"
    assert change.after["dimensions"] == [{"Name": "InstanceId", "Value": INSTANCE}]
    assert change.after["statistic"] == "Average"  # the panel's, none given
    assert seen.owners == ("u-alice",) and seen.region == REGION
    assert cloudwatch().describe_alarms()["MetricAlarms"] == [] and estate_actions(estate) == []

    done = estate.run(
        ALICE, "cloudwatch:PutMetricAlarm", arn, metric="CPUUtilization", threshold=80
    )
    (alarm,) = cloudwatch().describe_alarms()["MetricAlarms"]
    assert alarm["AlarmName"] == done.after["name"] == change.after["name"]
    assert alarm["AlarmName"].startswith(f"tally-{INSTANCE}-CPUUtilization-")
    assert (alarm["Namespace"], alarm["Statistic"]) == ("AWS/EC2", "Average")
    assert alarm["Dimensions"] == [{"Name": "InstanceId", "Value": INSTANCE}]
    assert alarm["AlarmActions"] == [TOPIC] and "owners=u-alice" in alarm["AlarmDescription"]
    (entry,) = estate_actions(estate)
    assert entry.subject_user_id == "u-alice" and entry.details["arn"] == arn


def test_an_s3_alarm_watches_the_storage_type_the_panel_draws(estate: Estate) -> None:
    assign(estate.stores, "u-alice", "s3", BUCKET)
    estate.run(
        ADMIN,
        "cloudwatch:PutMetricAlarm",
        f"arn:aws:s3:::{BUCKET}",
        metric="NumberOfObjects",
        threshold=1000000,
        periodSeconds=86400,
    )
    (alarm,) = cloudwatch().describe_alarms()["MetricAlarms"]
    assert alarm["Namespace"] == "AWS/S3"
    assert alarm["Dimensions"] == [
        {"Name": "BucketName", "Value": BUCKET},
        {"Name": "StorageType", "Value": "AllStorageTypes"},
    ]
    # An admin acted on alice's bucket: she is told.
    notes = estate.stores.notifications.list("u-alice", limit=10, start_key=None).items
    assert [n.kind for n in notes] == ["estate-action"]


def test_alarms_on_other_resources_are_refused_or_unknown(estate: Estate) -> None:
    assign(estate.stores, "u-alice", "ec2", INSTANCE)
    arn = f"arn:aws:ec2:::instance/{INSTANCE}"
    with pytest.raises(Forbidden):  # alice's, not bob's
        estate.run(BOB, "cloudwatch:PutMetricAlarm", arn, metric="CPUUtilization", threshold=1)
    with pytest.raises(NotFound):  # nobody's: a member does not see it
        estate.run(
            ALICE,
            "cloudwatch:PutMetricAlarm",
            "arn:aws:ec2:::instance/i-0fffffffffffffff0",
            metric="CPUUtilization",
            threshold=1,
        )
    with pytest.raises(Invalid) as bad:  # a Lambda metric on an instance
        estate.run(ALICE, "cloudwatch:PutMetricAlarm", arn, metric="Errors", threshold=1)
    assert bad.value.errors[0].field == "parameters.metric"
    with pytest.raises(Invalid) as kind:  # a volume has no panel
        estate.run(
            ADMIN,
            "cloudwatch:PutMetricAlarm",
            "arn:aws:ec2:::volume/vol-1",
            metric="CPUUtilization",
            threshold=1,
        )
    assert kind.value.errors[0].field == "target"
    with pytest.raises(Forbidden):  # another account
        estate.run(
            ADMIN,
            "cloudwatch:PutMetricAlarm",
            f"arn:aws:ec2:{REGION}:999999999999:instance/{INSTANCE}",
            metric="CPUUtilization",
            threshold=1,
        )
    with pytest.raises(NotFound):  # a region Tally does not manage
        estate.run(
            ADMIN,
            "cloudwatch:PutMetricAlarm",
            f"arn:aws:ec2:eu-west-3:{ACCOUNT}:instance/{INSTANCE}",
            metric="CPUUtilization",
            threshold=1,
        )
    assert estate.runner.commands == [] and estate_actions(estate) == []
    assert cloudwatch().describe_alarms()["MetricAlarms"] == []


def test_the_management_function_reads_an_alarms_resource_from_its_arn(estate: Estate) -> None:
    base = {
        "action": "cloudwatch:PutMetricAlarm",
        "account": ACCOUNT,
        "region": REGION,
        "name": INSTANCE,
        "alarmName": f"tally-{INSTANCE}-x",
        "parameters": {
            "metric": "Errors",
            "threshold": "1",
            "statistic": "Sum",
            "comparison": "GreaterThanThreshold",
            "periodSeconds": 300,
            "periods": 1,
        },
        "resourceArn": f"arn:aws:ec2:::instance/{INSTANCE}",
    }
    for command in (
        base,  # a Lambda metric on an instance
        {**base, "resourceArn": "arn:aws:ec2:::instance/i-0other"},  # not the named resource
        {**base, "resourceArn": "arn:aws:ec2:::volume/vol-1"},
    ):
        assert estate.runner.perform(command)["error"]["code"] == "CommandRefused"
    assert cloudwatch().describe_alarms()["MetricAlarms"] == []


def test_an_alarms_state_reaches_the_resources_owners_of_today(estate: Estate) -> None:
    from tally.estate.actions.alarm_notices import notify_alarm

    assign(estate.stores, "u-alice", "ec2", INSTANCE, share=60)
    arn = f"arn:aws:ec2:::instance/{INSTANCE}"
    estate.run(ALICE, "cloudwatch:PutMetricAlarm", arn, metric="CPUUtilization", threshold=80)
    (alarm,) = cloudwatch().describe_alarms()["MetricAlarms"]
    # Since made, bob was given a share: he hears of it too (the owners of today).
    assign(estate.stores, "u-bob", "ec2", INSTANCE, n=2, share=40)
    message = {
        "AlarmName": alarm["AlarmName"],
        "AlarmDescription": alarm["AlarmDescription"],
        "NewStateValue": "ALARM",
        "NewStateReason": "Threshold Crossed: 1 datapoint [93.0] >= 80.0",
        "StateChangeTime": "2026-11-20T12:05:00.000+0000",
        # As SNS carries them: lower-case keys.
        "Trigger": {
            "MetricName": "CPUUtilization",
            "Namespace": "AWS/EC2",
            "Dimensions": [{"value": INSTANCE, "name": "InstanceId"}],
        },
    }
    assert notify_alarm(estate.stores, message, now=NOW) == 2
    for user in ("u-alice", "u-bob"):
        (note,) = [
            n
            for n in estate.stores.notifications.list(user, limit=10, start_key=None).items
            if n.kind == "estate-alarm"
        ]
        assert note.title == f"{alarm['AlarmName']} is ALARM" and "93.0" in note.body
    # Nobody assigned (a function owned by its tag): the owners the alarm was made for.
    lone = {
        **message,
        "AlarmName": "tally-fn-Errors",
        "AlarmDescription": "x; owners=u-carol",
        "Trigger": {"Dimensions": [{"name": "FunctionName", "value": "fn"}]},
    }
    assert notify_alarm(estate.stores, lone, now=NOW) == 1
    assert estate.stores.notifications.list("u-carol", limit=10, start_key=None).items


def test_a_refresh_reads_one_resource_again(estate: Estate) -> None:
    lam().update_function_configuration(FunctionName=demo.BUSY, MemorySize=1024)  # outside Tally
    assert estate.cached("lambda", f"function#{demo.BUSY}")["memory"] == 512
    done = estate.run(ALICE, "tally:RefreshInventory", demo.BUSY)
    assert done.after is not None and done.after["memory"] == 1024
    assert estate.cached("lambda", f"function#{demo.BUSY}")["memory"] == 1024
    # A region is the organisation's: a member may not refresh it, an admin may.
    with pytest.raises(Forbidden):
        estate.run(ALICE, "tally:RefreshInventory", f"region:{REGION}", family="lambda")
    estate.run(ADMIN, "tally:RefreshInventory", f"region:{REGION}", family="iam")
    # IAM is global: its screen names no region.
    estate.run(ADMIN, "tally:RefreshInventory", "region:global", family="iam")
    with pytest.raises(Invalid):  # the other families are read per region
        estate.run(ADMIN, "tally:RefreshInventory", "region:global", family="network")


# ---- IAM -----------------------------------------------------------------------------------


@pytest.mark.parametrize("action", IAM_ACTIONS)
def test_iam_actions_need_their_own_permission_even_for_an_admin(
    estate: Estate, action: str
) -> None:
    target = "new-user" if action == "iam:CreateUser" else demo.UNUSED_USER
    params = {
        "iam:UpdateAccessKey": {"accessKeyId": "AKIAXXXXXXXXXXXXXXXX", "status": "Inactive"},
        "iam:DeleteAccessKey": {"accessKeyId": "AKIAXXXXXXXXXXXXXXXX"},
        "iam:AddUserToGroup": {"group": "g"},
        "iam:RemoveUserFromGroup": {"group": "g"},
    }.get(action, {})
    for caller in (ADMIN, ALICE, granted(ADMIN, "estate:lambda:manage")):
        with pytest.raises(Forbidden):
            estate.run(caller, action, target, preview=True, **params)
    # Another IAM permission is not this one.
    others = [f"estate:{a}" for a in IAM_ACTIONS if a != action]
    with pytest.raises(Forbidden):
        estate.run(granted(ADMIN, *others), action, target, preview=True, **params)


def _key(user: str) -> str:
    (key,) = iam().list_access_keys(UserName=user)["AccessKeyMetadata"]
    return str(key["AccessKeyId"])


def test_deactivating_reactivating_and_deleting_an_access_key(estate: Estate) -> None:
    key = _key(demo.OLD_KEY_USER)
    preview = estate.run(
        IAM_ADMIN,
        "iam:UpdateAccessKey",
        demo.OLD_KEY_USER,
        preview=True,
        accessKeyId=key,
        status="Inactive",
    )
    assert [(c.before, c.after) for c in preview.changes] == [("Active", "Inactive")]
    estate.run(
        IAM_ADMIN, "iam:UpdateAccessKey", demo.OLD_KEY_USER, accessKeyId=key, status="Inactive"
    )
    assert (
        iam().list_access_keys(UserName=demo.OLD_KEY_USER)["AccessKeyMetadata"][0]["Status"]
        == "Inactive"
    )
    cached = estate.cached("iam", f"user#{demo.OLD_KEY_USER}")
    assert cached["access_keys"][0]["status"] == "Inactive"
    estate.run(
        IAM_ADMIN, "iam:UpdateAccessKey", demo.OLD_KEY_USER, accessKeyId=key, status="Active"
    )
    estate.run(IAM_ADMIN, "iam:DeleteAccessKey", demo.OLD_KEY_USER, accessKeyId=key)
    assert iam().list_access_keys(UserName=demo.OLD_KEY_USER)["AccessKeyMetadata"] == []
    with pytest.raises(Invalid) as refused:  # no longer one of its keys
        estate.run(IAM_ADMIN, "iam:DeleteAccessKey", demo.OLD_KEY_USER, accessKeyId=key)
    assert refused.value.errors[0].field == "parameters.accessKeyId"
    # The owner (tag Owner=alice) was told each time; the audit has every step.
    assert len(estate.audit()) == 3
    assert len(estate.stores.notifications.list("u-alice", limit=10, start_key=None).items) == 3


def test_console_access_groups_and_password_reset(estate: Estate) -> None:
    user = demo.NO_MFA_USER
    estate.run(IAM_ADMIN, "iam:UpdateLoginProfile", user)
    # moto's UpdateLoginProfile without a password (Tally never sends one) also drops the
    # password it keeps, so the flag is read from its backend (real IAM keeps the password).
    from moto.iam.models import iam_backends

    assert iam_backends[ACCOUNT]["aws"].users[user].password_reset_required is True
    iam().create_login_profile(UserName=user, Password=demo.DEMO_PASSWORD)
    estate.run(IAM_ADMIN, "iam:RemoveUserFromGroup", user, group="tally-demo-developers")
    assert iam().list_groups_for_user(UserName=user)["Groups"] == []
    estate.run(IAM_ADMIN, "iam:AddUserToGroup", user, group="tally-demo-developers")
    assert [g["GroupName"] for g in iam().list_groups_for_user(UserName=user)["Groups"]] == [
        "tally-demo-developers"
    ]
    with pytest.raises(Conflict):
        estate.run(IAM_ADMIN, "iam:AddUserToGroup", user, group="tally-demo-developers")
    estate.run(IAM_ADMIN, "iam:DeleteLoginProfile", user)
    with pytest.raises(iam().exceptions.NoSuchEntityException):
        iam().get_login_profile(UserName=user)
    assert estate.cached("iam", f"user#{user}")["console_access"] is False


def test_creating_a_user_without_credentials_under_the_managed_path(estate: Estate) -> None:
    estate.settings = replace(ALL_ON, iam_path="/tally-managed/")
    estate.runner.settings = estate.settings
    preview = estate.run(
        IAM_ADMIN,
        "iam:CreateUser",
        "new-analyst",
        preview=True,
        groups=["tally-demo-developers"],
        owner="bob",
    )
    assert preview.changes[0].after["path"] == "/tally-managed/"
    done = estate.run(
        IAM_ADMIN, "iam:CreateUser", "new-analyst", groups=["tally-demo-developers"], owner="bob"
    )
    user = iam().get_user(UserName="new-analyst")["User"]
    assert user["Path"] == "/tally-managed/"
    assert iam().list_access_keys(UserName="new-analyst")["AccessKeyMetadata"] == []
    with pytest.raises(iam().exceptions.NoSuchEntityException):
        iam().get_login_profile(UserName="new-analyst")
    assert done.after is not None and done.after["groups"] == ["tally-demo-developers"]
    assert estate.cached("iam", "user#new-analyst") is not None
    with pytest.raises(Conflict):  # it exists now
        estate.run(IAM_ADMIN, "iam:CreateUser", "new-analyst")
    # The demo's users are at "/": outside this deployment's path, refused before any call.
    with pytest.raises(Forbidden):
        estate.run(IAM_ADMIN, "iam:DeleteUser", demo.UNUSED_USER)


def test_deleting_a_user_previews_everything_it_removes_first(estate: Estate) -> None:
    preview = estate.run(IAM_ADMIN, "iam:DeleteUser", demo.UNUSED_USER, preview=True)
    key = _key(demo.UNUSED_USER)
    assert set(preview.removes) == {
        f"accessKey:{key}",
        "loginProfile",
        "group:tally-demo-developers",
        "inlinePolicy:inline-read",
    }
    old = estate.run(IAM_ADMIN, "iam:DeleteUser", demo.OLD_KEY_USER, preview=True)
    assert any(r.startswith("attachedPolicy:arn:aws:iam::") for r in old.removes)
    estate.run(IAM_ADMIN, "iam:DeleteUser", demo.UNUSED_USER)
    with pytest.raises(iam().exceptions.NoSuchEntityException):
        iam().get_user(UserName=demo.UNUSED_USER)
    assert estate.cached("iam", f"user#{demo.UNUSED_USER}") is None
    (entry,) = estate.audit()
    assert json.loads(entry.details["after"]) is None
    assert json.loads(entry.details["before"])["name"] == demo.UNUSED_USER


def test_no_answer_carries_a_secret(estate: Estate) -> None:
    done = estate.run(
        IAM_ADMIN, "iam:DeleteAccessKey", demo.OLD_KEY_USER, accessKeyId=_key(demo.OLD_KEY_USER)
    )
    text = json.dumps([done.before, done.after, [e.details for e in estate.audit()]])
    assert "SecretAccessKey" not in text and "secret" not in text.lower()


def test_the_management_function_refuses_what_the_api_would_not_send(estate: Estate) -> None:
    base = {"account": ACCOUNT, "region": REGION, "parameters": {}}
    for command in (
        {**base, "action": "iam:CreateRole", "name": "x"},
        {**base, "action": "tally:RefreshInventory", "name": demo.BUSY},
        {**base, "action": "iam:DeleteUser", "name": demo.UNUSED_USER, "account": "999999999999"},
    ):
        assert estate.runner.perform(command)["error"]["code"] == "CommandRefused"
    managed = replace(ALL_ON, iam_path="/tally-managed/")
    estate.runner.settings = managed
    refused = estate.runner.perform({**base, "action": "iam:DeleteUser", "name": demo.UNUSED_USER})
    assert refused["error"]["code"] == "CommandRefused"
    iam().get_user(UserName=demo.UNUSED_USER)  # still there


def test_cache_scope_names() -> None:
    assert inventory.scope_of(ACCOUNT, REGION, "iam") == EstateScope(ACCOUNT, "global", "iam")


def test_the_management_handler_runs_a_command_and_logs_it(estate: Estate) -> None:
    from management.handler import run
    from management.settings import ManagementSettings

    settings = ManagementSettings(
        region=REGION,
        table_names={},
        page_token_keys=None,
        estate_account=ACCOUNT,
        alarm_topic_arn=TOPIC,
    )
    answer = run(
        {
            "action": "lambda:PutFunctionConcurrency",
            "account": ACCOUNT,
            "region": REGION,
            "name": demo.BUSY,
            "parameters": {"reservedConcurrency": 3},
        },
        settings,
        clients=Boto3EstateClients(),
        store=estate.stores.estate,
    )
    assert (answer["before"]["reserved_concurrency"], answer["after"]["reserved_concurrency"]) == (
        20,
        3,
    )
