"""The estate inventory (issue 15): EventBridge Scheduler -> the inventory function, hourly,
which reads Lambda, the network, IAM users and Lambda metrics into the estate table.

Its role is its own and read-only: exactly the AWS actions its readers call
(``tally/estate/readers.py``), scoped to ARNs where AWS allows it. The Describe/List actions
that support no resource-level permission (ec2:Describe*, lambda:ListFunctions, iam:ListUsers,
iam:GetAccountAuthorizationDetails, cloudwatch:GetMetricData) are on "*" in a policy of their
own, acknowledged.
A cross-account read (``TALLY_ESTATE_ROLE_ARN``) would add sts:AssumeRole on that one role;
it is not configurable yet.
"""

from __future__ import annotations

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


class Inventory(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        runtime: FunctionRuntime,
        data: Data,
        regions: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        read_regions = list(regions) or [stack.region]

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
        environment = {"TALLY_ESTATE_ACCOUNT": stack.account}
        if regions:
            environment["TALLY_ESTATE_REGIONS"] = ",".join(regions)
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

        function_arns = [
            f"arn:{stack.partition}:lambda:{region}:{stack.account}:function:*"
            for region in read_regions
        ]
        user_arn = f"arn:{stack.partition}:iam::{stack.account}:user/*"
        self.reads = iam.Policy(
            self,
            "EstateReads",
            roles=[self.role],
            statements=[
                iam.PolicyStatement(actions=list(UNSCOPED_ACTIONS), resources=["*"]),
                iam.PolicyStatement(actions=list(FUNCTION_ACTIONS), resources=function_arns),
                iam.PolicyStatement(actions=list(USER_ACTIONS), resources=[user_arn]),
            ],
        )
        nag.acknowledge(
            self.reads,
            "AwsSolutions-IAM5[Resource::*]",
            "The EC2 Describe calls, lambda:ListFunctions, iam:ListUsers, "
            "iam:GetAccountAuthorizationDetails and cloudwatch:GetMetricData support no "
            "resource-level permissions (AWS Service "
            "Authorization Reference); all are read-only, and the role has nothing else on '*'.",
        )
        nag.acknowledge_wildcard_resources(
            self.reads,
            [*function_arns, user_arn],
            "The inventory reads every function of the regions it is configured for and every "
            "IAM user of the account (read-only Get/List calls); names are only known at run "
            "time.",
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
