"""Least privilege, per role: the exact actions each function and the schedule may use, no
wildcard actions, and wildcard resources only where the service or the task requires them."""

from __future__ import annotations

from typing import Any

import pytest

from infra import outputs
from infra.constructs import inventory, management
from infra.nag import flatten_reference
from tally.tables import ALL_TABLES
from tests.infra.conftest import INGEST_WORKER, Synthesized

READ = {
    "dynamodb:BatchGetItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:Query",
}
WRITE = {
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DeleteItem",
    "dynamodb:DescribeTable",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
}
LOGS = {"logs:CreateLogStream", "logs:PutLogEvents"}
XRAY = {"xray:PutTelemetryRecords", "xray:PutTraceSegments"}

EXPECTED_TABLE_ACCESS = {
    outputs.API_FUNCTION_NAME: {
        "users": READ | WRITE,
        "assignments": READ | WRITE,
        "budgets": READ | WRITE,
        "claims": READ | WRITE,
        "notifications": READ | WRITE,
        "preferences": READ | WRITE,
        # Appends, and auditors' reads (a subject's entries, or the "all" index).
        "audit": {"dynamodb:PutItem", "dynamodb:Query"},
        "costs": READ,
        "rollups": READ,
        "anomalies": READ | WRITE,
        "reports": READ | WRITE,  # export and invoice jobs
        "recommendations": READ,
        "access": READ | WRITE,  # roles, teams, grants
        # The per-user rate limits: conditional updates only, never a read (tally.ratelimit).
        "ratelimits": {"dynamodb:UpdateItem"},
        # The estate views read the inventory's cache; an assignment's write updates the
        # function's cached owners (PutItem, on the owners partitions only: see below).
        "estate": READ | {"dynamodb:PutItem"},
        # Exchange rates (read; a manual rate written) and the billing settings (issue 17).
        "billing": READ | WRITE,
        "commitments": READ,  # reserved capacity: Cost Explorer's snapshot, FOCUS uses
    },
    outputs.INGEST_FUNCTION_NAME: {
        "costs": READ | WRITE,
        "rollups": READ | WRITE,
        "users": READ | WRITE,
        "idempotency": READ | WRITE,
        "assignments": READ | {"dynamodb:Scan"},
        "ingestruns": READ | WRITE,  # the fan-out's run header and partitions
        "billing": READ,  # the billing periods roll-ups are made for (tally.periods)
        "commitments": WRITE,  # a FOCUS read's commitment uses (tally.commitments.focus)
    },
    # The fan-out's worker: each partition's owners' days and roll-ups, the run's state.
    INGEST_WORKER: {
        "costs": READ | WRITE,
        "rollups": READ | WRITE,
        "ingestruns": READ | WRITE,
        "billing": READ,  # the billing periods
    },
    outputs.ALERTS_FUNCTION_NAME: {
        "alerts": READ | WRITE,
        "notifications": READ | WRITE,
        # Bounces and complaints suppress an address; an unsubscribe turns the digest off.
        "preferences": READ | WRITE,
        "users": READ,
        "budgets": READ,
        "rollups": READ,
        "costs": READ,
        "anomalies": READ | WRITE,
        "access": READ,  # a team budget's managers
        "billing": READ,  # the rates that convert spend into a budget's currency
    },
    outputs.REPORTS_FUNCTION_NAME: {
        "reports": READ | WRITE,
        "recommendations": READ | WRITE,
        "users": READ,
        "assignments": READ | {"dynamodb:Scan"},
        "budgets": READ,
        "costs": READ,
        # A change of billing periods rebuilds every roll-up (tally.periods.recompute), under
        # the definition in the billing settings.
        "rollups": READ | WRITE,
        "billing": READ,
        "access": READ,  # chargeback by team, department and cost center
        "commitments": READ | WRITE,  # reserved capacity: the snapshot, expiry notice claims
        "notifications": READ | WRITE,  # expiry notices in the app
    },
    outputs.ACCESS_MIGRATION_FUNCTION_NAME: {
        "access": READ | WRITE,
        # Its own audit entries, and "listed" backfilled on older ones (a paged Scan).
        "audit": {"dynamodb:PutItem", "dynamodb:Scan", "dynamodb:UpdateItem"},
        # "resource_key" backfilled on cost lines older than their "by-resource" index.
        "costs": {"dynamodb:Scan", "dynamodb:UpdateItem"},
    },
}
# The recommendations refresh's read-only calls (infra/constructs/reports.py).
RECOMMENDATION_READS = {
    "ec2:DescribeInstances",
    "ec2:DescribeVolumes",
    "ec2:DescribeAddresses",
    "ec2:DescribeSnapshots",
    "lambda:ListFunctions",
    "s3:ListAllMyBuckets",
    "cloudwatch:GetMetricData",
    "cloudwatch:GetMetricStatistics",
}
# The reserved-capacity refresh's reads (tally.commitments.cost_explorer).
COMMITMENT_READS = {
    "ce:GetReservationUtilization",
    "ce:GetReservationCoverage",
    "ce:GetReservationPurchaseRecommendation",
    "ce:GetSavingsPlansUtilization",
    "ce:GetSavingsPlansCoverage",
    "ce:GetSavingsPlansPurchaseRecommendation",
    "savingsplans:DescribeSavingsPlans",
}
REPORT_OBJECTS = {
    "s3:PutObject",
    "s3:GetObject",
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
}
EXPECTED_OTHER_ACTIONS = {
    outputs.API_FUNCTION_NAME: LOGS
    | XRAY
    | {
        "cognito-idp:ListUsers",
        "cognito-idp:AdminListGroupsForUser",
        "cognito-idp:AdminGetUser",  # requireAdminMfa: has this admin TOTP on?
        "secretsmanager:GetSecretValue",  # page-token and unsubscribe keys
        "kms:Encrypt",  # seals webhook URLs (test_alerts.py)
        "kms:Decrypt",
        "ec2:DescribeInstances",
        "rds:DescribeDBInstances",
        "lambda:GetFunction",
        "lambda:ListTags",  # a claim reads the owner tag
        "s3:GetBucketTagging",  # a claim reads the owner tag
        "s3:GetBucketLocation",
        "s3:ListBucket",
        "sqs:SendMessage",  # export and invoice jobs to the reports queue
        "s3:GetObject",  # pre-signed download links of their files
        # The estate's metrics panel (GetMetricData and DescribeAlarms take no resource).
        "cloudwatch:GetMetricData",
        "cloudwatch:DescribeAlarms",
        "logs:FilterLogEvents",  # a function's recent errors, /aws/lambda/* only
        "lambda:InvokeFunction",  # the management and inventory functions (estate actions)
    },
    outputs.INGEST_FUNCTION_NAME: LOGS
    | XRAY
    | {
        "cognito-idp:ListUsers",
        "cognito-idp:AdminListGroupsForUser",
        "ce:GetCostAndUsage",
        "ce:GetCostAndUsageWithResources",
        "events:PutEvents",
        "s3:ListBucket",
        "s3:GetObject",
        "s3:PutObject",  # the fan-out's partitions, to the work bucket
        # The dead-letter queue (failed runs) and the batches queue (one message a partition).
        "sqs:SendMessage",
    },
    INGEST_WORKER: LOGS
    | XRAY
    | {
        "events:PutEvents",  # CostsIngested, once the run is finalized
        "s3:GetObject",  # partitions and partial results
        "s3:PutObject",
        # SendMessage: "finalize" to the batches queue; the rest: its event source mapping.
        "sqs:SendMessage",
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:ChangeMessageVisibility",
        "sqs:GetQueueAttributes",
        "sqs:GetQueueUrl",
    },
    outputs.ALERTS_FUNCTION_NAME: LOGS
    | XRAY
    | {
        "ses:SendEmail",
        "ses:SendRawEmail",
        "sns:Publish",
        "kms:Decrypt",  # webhook URLs; and with GenerateDataKey, the encrypted admin topic
        "kms:GenerateDataKey",
        "secretsmanager:GetSecretValue",
        # SendMessage: the fan-out (SendMessageBatch) and the dead-letter queue; the rest:
        # the fan-out queue's event source mapping.
        "sqs:SendMessage",
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:ChangeMessageVisibility",
        "sqs:GetQueueAttributes",
        "sqs:GetQueueUrl",
    },
    outputs.REPORTS_FUNCTION_NAME: LOGS
    | XRAY
    | RECOMMENDATION_READS
    | REPORT_OBJECTS
    | COMMITMENT_READS
    | {
        "sns:Publish",  # commitment expiry notices to the admins' topic
        "kms:Decrypt",  # (the topic is encrypted with its key)
        "kms:GenerateDataKey",
        "ses:SendEmail",  # invoices by email
        "ses:SendRawEmail",
        "rds:DescribeDBInstances",
        "s3:GetLifecycleConfiguration",
        # SendMessage: the dead-letter queue; the rest: the job queue's event source mapping.
        "sqs:SendMessage",
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:ChangeMessageVisibility",
        "sqs:GetQueueAttributes",
        "sqs:GetQueueUrl",
    },
    outputs.ACCESS_MIGRATION_FUNCTION_NAME: LOGS
    | XRAY
    | {"cognito-idp:ListUsers", "cognito-idp:ListGroups", "cognito-idp:ListUsersInGroup"},
}
# Wildcard resources, each acknowledged with its reason in the construct that grants it.
ALLOWED_WILDCARDS = {
    "*": XRAY
    | RECOMMENDATION_READS
    | COMMITMENT_READS
    | set(inventory.UNSCOPED_ACTIONS)
    | {"cloudwatch:DescribeAlarms"}  # the API's metrics panel (GetMetricData is the inventory's)
    | {"ce:GetCostAndUsage", "ce:GetCostAndUsageWithResources", "ec2:DescribeInstances"},
    "arn:<AWS::Partition>:rds:<AWS::Region>:<AWS::AccountId>:db:*": {"rds:DescribeDBInstances"},
    "arn:<AWS::Partition>:lambda:<AWS::Region>:<AWS::AccountId>:function:*": {
        "lambda:GetFunction",
        "lambda:ListTags",
        *inventory.FUNCTION_ACTIONS,
        *management.FUNCTION_ACTIONS,
    },
    "arn:<AWS::Partition>:iam::<AWS::AccountId>:user/*": {
        *inventory.USER_ACTIONS,
        *management.USER_ACTIONS,
    },
    "arn:<AWS::Partition>:iam::<AWS::AccountId>:group/*": set(management.GROUP_ACTIONS),
    "arn:<AWS::Partition>:cloudwatch:<AWS::Region>:<AWS::AccountId>:alarm:tally-*": set(
        management.ALARM_ACTIONS
    ),
    "arn:<AWS::Partition>:logs:*:<AWS::AccountId>:log-group:/aws/lambda/*": {
        "logs:FilterLogEvents"
    },
    "arn:<AWS::Partition>:s3:::*": {
        "s3:GetBucketLocation",
        "s3:GetBucketTagging",
        "s3:ListBucket",
        "s3:GetLifecycleConfiguration",  # the recommendations refresh
    },
}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _statements(synth: Synthesized, role: str) -> list[dict[str, Any]]:
    statements = []
    for policy in synth.resources("AWS::IAM::Policy").values():
        if {"Ref": role} in policy["Properties"]["Roles"]:
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def _role_of(synth: Synthesized, output_id: str) -> str:
    return synth.properties(synth.function_id(output_id))["Role"]["Fn::GetAtt"][0]


def _all_roles_statements(synth: Synthesized) -> list[tuple[str, dict[str, Any]]]:
    return [
        (role, statement)
        for role in synth.resources("AWS::IAM::Role")
        for statement in _statements(synth, role)
    ]


def test_no_wildcard_actions(synth: Synthesized) -> None:
    for role, statement in _all_roles_statements(synth):
        assert statement["Effect"] == "Allow"
        for action in _as_list(statement["Action"]):
            assert "*" not in action, (role, action)


def test_wildcard_resources_only_where_acknowledged(synth: Synthesized) -> None:
    exports = synth.output_target(outputs.EXPORT_BUCKET)
    ingest = synth.output_target(outputs.INGEST_FUNCTION_NAME)
    inventory_function = synth.output_target(outputs.INVENTORY_FUNCTION_NAME)
    work = synth.logical_id(synth.stack.node.find_child("Storage").ingest_work)
    rates_function = synth.logical_id(synth.stack.node.find_child("Rates").function)
    allowed = {
        **ALLOWED_WILDCARDS,
        f"<{exports}.Arn>/*": {"s3:GetObject"},
        # Each ingest run's partitions and results, under runs/<run id>/ of the work bucket.
        f"<{work}.Arn>/runs/*": {"s3:GetObject", "s3:PutObject"},
        # Exports and invoices: the reports function writes them, the API pre-signs links.
        f"<{exports}.Arn>/reports/*": REPORT_OBJECTS,
        f"<{ingest}.Arn>:*": {"lambda:InvokeFunction"},
        f"<{inventory_function}.Arn>:*": {"lambda:InvokeFunction"},
        f"<{rates_function}.Arn>:*": {"lambda:InvokeFunction"},
    }
    for role, statement in _all_roles_statements(synth):
        for resource in _as_list(statement["Resource"]):
            flat = flatten_reference(resource)
            if "*" in flat:
                assert flat in allowed, (role, flat)
                assert set(_as_list(statement["Action"])) <= allowed[flat], (role, flat)


@pytest.mark.parametrize("output_id", EXPECTED_TABLE_ACCESS)
def test_function_actions_are_exactly_the_expected(synth: Synthesized, output_id: str) -> None:
    actions = {
        action
        for statement in _statements(synth, _role_of(synth, output_id))
        for action in _as_list(statement["Action"])
    }
    expected = EXPECTED_OTHER_ACTIONS[output_id] | set().union(
        *EXPECTED_TABLE_ACCESS[output_id].values()
    )
    assert actions == expected


@pytest.mark.parametrize("output_id", EXPECTED_TABLE_ACCESS)
def test_table_access_per_function(synth: Synthesized, output_id: str) -> None:
    tables = {synth.output_target(outputs.table_name(spec)): spec.key for spec in ALL_TABLES}
    granted: dict[str, set[str]] = {}
    for statement in _statements(synth, _role_of(synth, output_id)):
        actions = {a for a in _as_list(statement["Action"]) if a.startswith("dynamodb:")}
        for resource in _as_list(statement["Resource"]):
            flat = flatten_reference(resource)
            if not actions:
                continue
            # Only table ARNs and named indexes: never <table>/index/*.
            logical_id, _, suffix = flat.strip("<").partition(".Arn>")
            assert logical_id in tables, flat
            assert suffix == "" or (suffix.startswith("/index/") and "*" not in suffix), flat
            granted.setdefault(tables[logical_id], set()).update(actions)
    assert granted == EXPECTED_TABLE_ACCESS[output_id]


@pytest.mark.parametrize("output_id", EXPECTED_TABLE_ACCESS)
def test_reads_cover_exactly_the_spec_indexes(synth: Synthesized, output_id: str) -> None:
    statements = _statements(synth, _role_of(synth, output_id))
    flat = {flatten_reference(r) for s in statements for r in _as_list(s["Resource"])}
    for spec in ALL_TABLES:
        if "dynamodb:Query" not in EXPECTED_TABLE_ACCESS[output_id].get(spec.key, set()):
            continue
        table = synth.output_target(outputs.table_name(spec))
        for index in spec.indexes:
            assert f"<{table}.Arn>/index/{index.name}" in flat


def test_the_api_puts_estate_items_only_in_the_owners_partitions(synth: Synthesized) -> None:
    from tally import tables

    estate = synth.output_target(outputs.table_name(tables.ESTATE))
    puts = [
        s
        for s in _statements(synth, _role_of(synth, outputs.API_FUNCTION_NAME))
        if "dynamodb:PutItem" in _as_list(s["Action"])
        and f"<{estate}.Arn>" in {flatten_reference(r) for r in _as_list(s["Resource"])}
    ]
    assert [p["Condition"] for p in puts] == [
        {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["ESTATE#*#global#owners"]}}
    ]


def test_schedule_role_only_invokes_the_ingest_function(synth: Synthesized) -> None:
    ingest = synth.output_target(outputs.INGEST_FUNCTION_NAME)
    (schedule,) = [
        s
        for s in synth.resources("AWS::Scheduler::Schedule").values()
        if s["Properties"]["Target"]["Arn"] == {"Fn::GetAtt": [ingest, "Arn"]}
    ]
    role = schedule["Properties"]["Target"]["RoleArn"]["Fn::GetAtt"][0]
    trust = synth.properties(role)["AssumeRolePolicyDocument"]["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": "scheduler.amazonaws.com"}]
    queue = synth.output_target(outputs.INGEST_DEAD_LETTER_QUEUE_URL)
    grants = {
        (action, flatten_reference(resource))
        for statement in _statements(synth, role)
        for action in _as_list(statement["Action"])
        for resource in _as_list(statement["Resource"])
    }
    assert grants == {
        ("lambda:InvokeFunction", f"<{ingest}.Arn>"),
        ("lambda:InvokeFunction", f"<{ingest}.Arn>:*"),
        ("sqs:SendMessage", f"<{queue}.Arn>"),
    }


def _table_grants(synth: Synthesized, output_id: str, table_key: str) -> set[tuple[str, str]]:
    table = synth.output_target(
        outputs.table_name(next(spec for spec in ALL_TABLES if spec.key == table_key))
    )
    return {
        (action, flatten_reference(resource))
        for statement in _statements(synth, _role_of(synth, output_id))
        for action in _as_list(statement["Action"])
        for resource in _as_list(statement["Resource"])
        if flatten_reference(resource).startswith(f"<{table}.Arn>")
    }


def test_the_api_only_appends_to_the_audit_log(synth: Synthesized) -> None:
    # Issue 9, finding 5: no DeleteItem, UpdateItem or BatchWriteItem on the audit table. The
    # put's "item does not exist" condition is the code's (tests/store/test_audit_log.py): IAM
    # has no condition key for it. Issue 13: auditors read it, by Query only (no Scan).
    audit = synth.output_target(outputs.table_name(next(s for s in ALL_TABLES if s.key == "audit")))
    assert _table_grants(synth, outputs.API_FUNCTION_NAME, "audit") == {
        ("dynamodb:PutItem", f"<{audit}.Arn>"),
        ("dynamodb:Query", f"<{audit}.Arn>"),
        ("dynamodb:Query", f"<{audit}.Arn>/index/all"),
    }


def test_only_the_jobs_scan(synth: Synthesized) -> None:
    """The ingest, the reports function (recommendations, cost-center invoices) and the
    inventory (the estate's owners) walk every assignment, the access migration the audit log
    and the cost lines once (their "listed" and "resource_key" backfills); the API, on the
    request path, never scans."""
    assignments = synth.output_target(
        outputs.table_name(next(s for s in ALL_TABLES if s.key == "assignments"))
    )
    audit = synth.output_target(outputs.table_name(next(s for s in ALL_TABLES if s.key == "audit")))
    costs = synth.output_target(outputs.table_name(next(s for s in ALL_TABLES if s.key == "costs")))
    scans = {
        (role, flatten_reference(resource))
        for role, statement in _all_roles_statements(synth)
        if "dynamodb:Scan" in _as_list(statement["Action"])
        for resource in _as_list(statement["Resource"])
    }
    assert scans == {
        (_role_of(synth, outputs.INGEST_FUNCTION_NAME), f"<{assignments}.Arn>"),
        (_role_of(synth, outputs.REPORTS_FUNCTION_NAME), f"<{assignments}.Arn>"),
        (_role_of(synth, outputs.INVENTORY_FUNCTION_NAME), f"<{assignments}.Arn>"),
        (_role_of(synth, outputs.ACCESS_MIGRATION_FUNCTION_NAME), f"<{audit}.Arn>"),
        (_role_of(synth, outputs.ACCESS_MIGRATION_FUNCTION_NAME), f"<{costs}.Arn>"),
    }


def test_the_api_reads_cloudwatch_for_the_metrics_panel_only(synth: Synthesized) -> None:
    """GetMetricData and DescribeAlarms, on '*' (neither takes a resource), nothing else of
    CloudWatch; the ingest and alerts never need them."""
    api = [
        s
        for s in _statements(synth, _role_of(synth, outputs.API_FUNCTION_NAME))
        if any(a.startswith("cloudwatch:") for a in _as_list(s["Action"]))
    ]
    assert [(sorted(_as_list(s["Action"])), s["Resource"]) for s in api] == [
        (["cloudwatch:DescribeAlarms", "cloudwatch:GetMetricData"], "*")
    ]
    logs = [
        flatten_reference(s["Resource"])
        for s in _statements(synth, _role_of(synth, outputs.API_FUNCTION_NAME))
        if "logs:FilterLogEvents" in _as_list(s["Action"])
    ]
    assert logs == ["arn:<AWS::Partition>:logs:*:<AWS::AccountId>:log-group:/aws/lambda/*"]
