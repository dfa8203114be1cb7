"""The estate inventory (issue 15): EventBridge Scheduler -> the inventory function, hourly,
which reads Lambda, the network, IAM users and Lambda metrics into the estate table.

Its role is its own and read-only: exactly the AWS actions its readers call
(``tally/estate/readers.py``), scoped to ARNs where AWS allows it. The Describe/List actions
that support no resource-level permission (ec2:Describe*, lambda:ListFunctions, iam:ListUsers,
iam:GetAccountAuthorizationDetails, cloudwatch:GetMetricData) are on "*" in a policy of their
own, acknowledged.
Another account (``estateReadRoleArn``, ``TALLY_ESTATE_ROLE_ARN``): the function assumes that
account's read-only role (``infra/estate_read_role.py``, which holds the very statements
``estate_read_policy`` makes here) and its own role holds sts:AssumeRole on that one ARN
instead of the reads: it reads nothing of the Tally account itself.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from aws_cdk import Duration, Stack, TimeZone
from aws_cdk import aws_iam as iam
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as targets
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import nag
from infra.constructs.data import Access, Data
from infra.constructs.lambda_factory import FunctionRuntime

SERVICE = "inventory"
MEMORY_MB = 512
# 1,000 functions and 500 IAM users are some thousands of read calls; AWS answers each in tens
# of milliseconds, so minutes at most.
FUNCTION_TIMEOUT = Duration.minutes(10)
SCHEDULE = "rate(1 hour)"
SCHEDULED_EVENT = {
    "source": "tally.schedule",
    "trigger": "hourly",
    "executionId": scheduler.ContextAttribute.execution_id,
    "scheduledTime": scheduler.ContextAttribute.scheduled_time,
}
SCHEDULE_RETRY_ATTEMPTS = 2
# An hour later the next run reads everything again.
SCHEDULE_MAX_EVENT_AGE = Duration.hours(1)

# Read actions with no resource-level permission (AWS Service Authorization Reference).
UNSCOPED_ACTIONS = (
    "cloudwatch:GetMetricData",
    "ec2:DescribeAddresses",
    "ec2:DescribeInternetGateways",
    "ec2:DescribeNatGateways",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeRouteTables",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:DescribeVpcEndpoints",
    "ec2:DescribeVpcPeeringConnections",
    "ec2:DescribeVpcs",
    "iam:GetAccountAuthorizationDetails",
    "iam:ListUsers",
    "lambda:ListFunctions",
)
# On the functions of the regions read: arn:<partition>:lambda:<region>:<account>:function:*
FUNCTION_ACTIONS = (
    "lambda:GetFunctionConcurrency",
    "lambda:GetFunctionConfiguration",
    "lambda:ListTags",
)
# On the account's IAM users: arn:<partition>:iam::<account>:user/*
USER_ACTIONS = (
    "iam:GetAccessKeyLastUsed",
    "iam:GetLoginProfile",
    "iam:GetUser",
    "iam:ListAccessKeys",
    "iam:ListAttachedUserPolicies",
    "iam:ListGroupsForUser",
    "iam:ListMFADevices",
    "iam:ListUserPolicies",
    "iam:ListUserTags",
)


# The name IAM gives a role: the account of a cross-account read role is the estate's.
ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):role/[\w+=,.@/-]+$")


def role_account(role_arn: str) -> str:
    """The account a role ARN names (``ValueError`` when it is not a role ARN)."""
    match = ROLE_ARN.fullmatch(role_arn)
    if match is None:
        raise ValueError(
            f"{role_arn!r} is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)"
        )
    return match.group(1)


def estate_read_policy(
    scope: Construct, construct_id: str, *, role: iam.IRole, account: str, regions: Sequence[str]
) -> iam.Policy:
    """The inventory's read actions on ``account``'s estate, attached to ``role``: the one list
    both the inventory's own role and another account's read role hold."""
    partition = Stack.of(scope).partition
    function_arns = [f"arn:{partition}:lambda:{region}:{account}:function:*" for region in regions]
    user_arn = f"arn:{partition}:iam::{account}:user/*"
    policy = iam.Policy(
        scope,
        construct_id,
        roles=[role],
        statements=[
            iam.PolicyStatement(actions=list(UNSCOPED_ACTIONS), resources=["*"]),
            iam.PolicyStatement(actions=list(FUNCTION_ACTIONS), resources=function_arns),
            iam.PolicyStatement(actions=list(USER_ACTIONS), resources=[user_arn]),
        ],
    )
    nag.acknowledge(
        policy,
        "AwsSolutions-IAM5[Resource::*]",
        "The EC2 Describe calls, lambda:ListFunctions, iam:ListUsers, "
        "iam:GetAccountAuthorizationDetails and cloudwatch:GetMetricData support no "
        "resource-level permissions (AWS Service "
        "Authorization Reference); all are read-only, and the role has nothing else on '*'.",
    )
    nag.acknowledge_wildcard_resources(
        policy,
        [*function_arns, user_arn],
        "The inventory reads every function of the regions it is configured for and every "
        "IAM user of the account (read-only Get/List calls); names are only known at run "
        "time.",
    )
    return policy


class Inventory(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        runtime: FunctionRuntime,
        data: Data,
        regions: Sequence[str] = (),
        read_role_arn: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        read_regions = list(regions) or [stack.region]
        # The account the cache keys name: the read role's, else this one.
        self.account = role_account(read_role_arn) if read_role_arn else stack.account

        # Scheduled runs and Lambda's async retries that failed every attempt.
        self.dead_letter_queue = sqs.Queue(
            self,
            "FailedRuns",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        nag.acknowledge_dead_letter_queue(
            self.dead_letter_queue, of="the inventory schedule and function", used_by_function=True
        )
        environment = {"TALLY_ESTATE_ACCOUNT": self.account}
        if regions:
            environment["TALLY_ESTATE_REGIONS"] = ",".join(regions)
        if read_role_arn:
            environment["TALLY_ESTATE_ROLE_ARN"] = read_role_arn
        made = runtime.new_function(
            self,
            "Function",
            handler="inventory.handler.lambda_handler",
            service=SERVICE,
            description="Tally inventory: reads the AWS estate into the estate cache",
            memory_size=MEMORY_MB,
            timeout=FUNCTION_TIMEOUT,
            dead_letter_queue=self.dead_letter_queue,
            environment=environment,
        )
        self.function = made.function
        self.role = made.role
        data.grant(self.role, Access.READ_WRITE, ["estate"])
        # Who owns each function and IAM user (tally.estate.ownership): every assignment and
        # the user directory, read after each full run.
        data.grant(self.role, Access.READ, ["assignments"], scan=True)
        data.grant(self.role, Access.READ, ["users"])

        self.reads: iam.Policy | None = None
        if read_role_arn:
            # Every read goes through the other account's role (tally.estate.clients assumes
            # it once per run); this role itself reads nothing of the Tally account.
            self.role.add_to_principal_policy(
                iam.PolicyStatement(actions=["sts:AssumeRole"], resources=[read_role_arn])
            )
        else:
            self.reads = estate_read_policy(
                self, "EstateReads", role=self.role, account=stack.account, regions=read_regions
            )

        schedule_role = iam.Role(
            self,
            "ScheduleRole",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            ),
            description="Tally: EventBridge Scheduler invokes the inventory function",
        )
        self.schedule = scheduler.Schedule(
            self,
            "Hourly",
            description="Tally: hourly estate inventory",
            schedule=scheduler.ScheduleExpression.expression(SCHEDULE, time_zone=TimeZone.ETC_UTC),
            target=targets.LambdaInvoke(
                self.function,
                input=scheduler.ScheduleTargetInput.from_object(SCHEDULED_EVENT),
                dead_letter_queue=self.dead_letter_queue,
                retry_attempts=SCHEDULE_RETRY_ATTEMPTS,
                max_event_age=SCHEDULE_MAX_EVENT_AGE,
                role=schedule_role,
            ),
        )
        nag.acknowledge_wildcard_resources(
            schedule_role,
            [f"{self.function.function_arn}:*"],
            "CDK's grantInvoke covers the inventory function and its versions and aliases "
            "(<function ARN>:*); it is scoped to this one function.",
        )
