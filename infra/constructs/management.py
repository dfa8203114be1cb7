"""The estate's management actions (issue 15): the management function, which performs the
one change the API has permitted and previewed, with a role of its own that holds only the
actions of the catalog (``tally.estate.actions.catalog``) and the reads it needs to read the
resource back, scoped by ARN where AWS allows; the SNS topic the alarms Tally creates
notify; and the API's right to invoke this function (and the inventory function, for a
refresh) and nothing more.

The role cannot touch a role (no ``iam:*Role*`` action; the boundary denies every IAM action
on roles and policies outside users), acts on IAM users under the configured path only
(``estateIamPath``, default ``/``: every user), and can never create a credential (the
boundary denies access keys, passwords, SSH keys, signing certificates and service
credentials). A permissions boundary holds the same limits, so a policy added to the role
later cannot widen them, and it denies every Lambda action on the stack's own functions
(their names start with the stack's name), so Tally cannot pause or resize itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from infra import nag
from infra.constructs.data import Access, Data
from infra.constructs.lambda_factory import FunctionRuntime
from infra.names import ESTATE_ALARMS_TOPIC

SERVICE = "management"
MEMORY_MB = 256
# One resource: a few reads, one change, a few reads; a user's deletion a few dozen calls.
FUNCTION_TIMEOUT = Duration.seconds(60)
ALARM_PREFIX = "tally-"  # tally.estate.actions.alarm_name

# On the functions of the managed regions: the four changes and the read-back.
FUNCTION_ACTIONS = (
    "lambda:DeleteFunctionConcurrency",
    "lambda:GetFunctionConcurrency",
    "lambda:GetFunctionConfiguration",
    "lambda:ListTags",
    "lambda:PutFunctionConcurrency",
    "lambda:TagResource",
    "lambda:UpdateFunctionConfiguration",
)
# On IAM users under the managed path: the changes, what DeleteUser removes first, the read-back.
USER_ACTIONS = (
    "iam:CreateUser",
    "iam:DeactivateMFADevice",
    "iam:DeleteAccessKey",
    "iam:DeleteLoginProfile",
    "iam:DeleteSSHPublicKey",
    "iam:DeleteSigningCertificate",
    "iam:DeleteUser",
    "iam:DeleteUserPolicy",
    "iam:DetachUserPolicy",
    "iam:GetAccessKeyLastUsed",
    "iam:GetLoginProfile",
    "iam:GetUser",
    "iam:ListAccessKeys",
    "iam:ListAttachedUserPolicies",
    "iam:ListGroupsForUser",
    "iam:ListMFADevices",
    "iam:ListSSHPublicKeys",
    "iam:ListSigningCertificates",
    "iam:ListUserPolicies",
    "iam:ListUserTags",
    "iam:TagUser",  # CreateUser with its Owner tag
    "iam:UpdateAccessKey",
    "iam:UpdateLoginProfile",
)
# Their resource is the group (AWS Service Authorization Reference), not the user: the user's
# path is checked by the API and again by the function before either is called.
GROUP_ACTIONS = ("iam:AddUserToGroup", "iam:RemoveUserFromGroup")
# On the alarms Tally names (tally-<function>-...).
ALARM_ACTIONS = ("cloudwatch:DescribeAlarms", "cloudwatch:PutMetricAlarm", "cloudwatch:TagResource")
# Never: credentials are not Tally's to make, and roles and policies are not its to touch.
DENIED_IAM = (
    "iam:CreateAccessKey",
    "iam:CreateLoginProfile",
    "iam:CreateServiceSpecificCredential",
    "iam:UploadSSHPublicKey",
    "iam:UploadSigningCertificate",
    "iam:ChangePassword",
)


class Management(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        runtime: FunctionRuntime,
        data: Data,
        topic_key: kms.IKey,
        regions: Sequence[str] = (),
        iam_path: str = "/",
        families: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.configured_regions = list(regions)
        self.regions = list(regions) or [stack.region]
        self.iam_path = iam_path
        self.families = tuple(families)

        # Alarms Tally creates notify here; encrypted with the messaging key, whose policy
        # already lets CloudWatch use it.
        self.alarm_topic = sns.Topic(
            self,
            "EstateAlarms",
            topic_name=f"{stack.stack_name}-{ESTATE_ALARMS_TOPIC}",
            display_name="Tally estate alarms",
            master_key=topic_key,
            enforce_ssl=True,
        )
        self.alarm_topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsPublish",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.alarm_topic.topic_arn],
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            )
        )

        environment = {
            "TALLY_ESTATE_ACCOUNT": stack.account,
            "TALLY_ESTATE_IAM_PATH": iam_path,
            "TALLY_ESTATE_ALARM_TOPIC_ARN": self.alarm_topic.topic_arn,
        }
        if regions:
            environment["TALLY_ESTATE_REGIONS"] = ",".join(regions)
        made = runtime.new_function(
            self,
            "Function",
            handler="management.handler.lambda_handler",
            service=SERVICE,
            description="Tally management: performs one permitted estate action",
            memory_size=MEMORY_MB,
            timeout=FUNCTION_TIMEOUT,
            environment=environment,
        )
        self.function = made.function
        self.role = made.role
        nag.acknowledge(
            self.function,
            "Serverless-LambdaDLQ",
            "The API invokes this function synchronously (RequestResponse) and answers its "
            "errors to the caller; a dead-letter queue only receives asynchronous invocations.",
        )
        data.grant(self.role, Access.READ_WRITE, ["estate"])

        self.function_arns = [
            f"arn:{stack.partition}:lambda:{region}:{stack.account}:function:*"
            for region in self.regions
        ]
        self.user_arn = f"arn:{stack.partition}:iam::{stack.account}:user{iam_path}*"
        self.group_arn = f"arn:{stack.partition}:iam::{stack.account}:group/*"
        self.alarm_arns = [
            f"arn:{stack.partition}:cloudwatch:{region}:{stack.account}:alarm:{ALARM_PREFIX}*"
            for region in self.regions
        ]
        allowed = [
            iam.PolicyStatement(actions=list(FUNCTION_ACTIONS), resources=self.function_arns),
            iam.PolicyStatement(actions=list(USER_ACTIONS), resources=[self.user_arn]),
            iam.PolicyStatement(actions=list(GROUP_ACTIONS), resources=[self.group_arn]),
            iam.PolicyStatement(actions=list(ALARM_ACTIONS), resources=self.alarm_arns),
        ]
        self.actions = iam.Policy(self, "EstateActions", roles=[self.role], statements=allowed)
        nag.acknowledge_wildcard_resources(
            self.actions,
            [*self.function_arns, self.user_arn, self.group_arn, *self.alarm_arns],
            "The management function acts on the function, IAM user (under the configured "
            "path) or group a person chose at run time, and on the alarms Tally names "
            "tally-*; the API decides which one, and the boundary denies Tally's own "
            "functions, roles and every credential-making action.",
        )

        own_functions = [
            f"arn:{stack.partition}:lambda:{region}:{stack.account}:function:{stack.stack_name}-*"
            for region in self.regions
        ]
        self.boundary = iam.ManagedPolicy(
            self,
            "Boundary",
            description="Tally management function: the most its role may ever do",
            statements=[
                *allowed,
                # What every function of the stack needs: its table, logs and traces.
                iam.PolicyStatement(
                    actions=["dynamodb:*"], resources=[data.tables["estate"].table_arn]
                ),
                iam.PolicyStatement(
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                    resources=[
                        f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:log-group:*"
                    ],
                ),
                iam.PolicyStatement(
                    actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
                    resources=["*"],
                ),
                # The error tracker's DSN, when the deployment configures one (the factory
                # grants the role that one secret).
                iam.PolicyStatement(
                    actions=["secretsmanager:GetSecretValue"],
                    resources=[
                        f"arn:{stack.partition}:secretsmanager:{stack.region}:{stack.account}"
                        ":secret:*"
                    ],
                ),
                iam.PolicyStatement(
                    effect=iam.Effect.DENY,
                    actions=["iam:*"],
                    not_resources=[self.user_arn, self.group_arn],
                ),
                iam.PolicyStatement(
                    effect=iam.Effect.DENY, actions=list(DENIED_IAM), resources=["*"]
                ),
                iam.PolicyStatement(
                    effect=iam.Effect.DENY, actions=["lambda:*"], resources=own_functions
                ),
            ],
        )
        iam.PermissionsBoundary.of(self.role).apply(self.boundary)
        nag.acknowledge(
            self.boundary,
            "AwsSolutions-IAM5[Resource::*]",
            "A permissions boundary grants nothing: it caps the role. X-Ray's Put actions "
            "support no resource-level permission; the denies on '*' are deliberate.",
        )
        nag.acknowledge(
            self.boundary,
            "AwsSolutions-IAM5[Action::dynamodb:*]",
            "In the boundary only (it grants nothing): the role's own grant on the estate "
            "table is item-level (infra/constructs/data.py).",
        )
        nag.acknowledge_wildcard_resources(
            self.boundary,
            [
                *self.function_arns,
                self.user_arn,
                self.group_arn,
                *self.alarm_arns,
                f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:log-group:*",
                f"arn:{stack.partition}:secretsmanager:{stack.region}:{stack.account}:secret:*",
            ],
            "A permissions boundary caps the role: the same patterns as its policy, the "
            "functions' log groups, and the error tracker's secret (granted to the role by "
            "name only when configured).",
        )

    def notify_through(self, alerts_function: lambda_.IFunction, dead_letter_queue: Any) -> None:
        """The alarms' state changes reach the alerts function, which notifies the owners in
        the app (``tally.estate.actions.alarm_notices``), as SES feedback does."""
        self.alarm_topic.add_subscription(
            subscriptions.LambdaSubscription(alerts_function, dead_letter_queue=dead_letter_queue)
        )

    def wire_api(
        self, api_function: lambda_.Function, inventory: lambda_.IFunction, data: Data
    ) -> None:
        """The API invokes this function (and the inventory function, for a refresh), reads
        an action's target from the estate cache, and knows what the deployment turned on."""
        stack = Stack.of(self)
        data.grant(api_function, Access.READ, ["estate"])
        for name, value in {
            "TALLY_MANAGEMENT_FUNCTION": self.function.function_name,
            "TALLY_INVENTORY_FUNCTION": inventory.function_name,
            "TALLY_ESTATE_ACTIONS": ",".join(self.families),
            "TALLY_ESTATE_ACCOUNT": stack.account,
            "TALLY_ESTATE_IAM_PATH": self.iam_path,
            "TALLY_ESTATE_ALARM_TOPIC_ARN": self.alarm_topic.topic_arn,
            # Unset: the API's own region, as for the inventory.
            "TALLY_ESTATE_REGIONS": ",".join(self.configured_regions),
        }.items():
            if value:
                api_function.add_environment(name, value)
        api_function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["lambda:InvokeFunction"],
                resources=[self.function.function_arn, inventory.function_arn],
            )
        )
