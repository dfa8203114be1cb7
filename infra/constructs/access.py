"""The access migration: a function run by a CloudFormation trigger after the tables and the
user pool exist (``functions/access``, ``tally.org.migration``).

It gives every user of the pool explicit roles (the ``admins`` group -> admin@org, everyone
else member@self; a profile already set is never overwritten), syncs teams from Cognito groups
when ``teamGroupPrefix`` is set, and backfills ``listed`` on audit entries older than the audit
log's "all" index. The trigger runs it on the first deploy and again whenever the function's
code or configuration changes (``execute_on_handler_change``: a new version of the code, the
shared layer or an environment value), which is every deploy of a new Tally release; the
migration is idempotent, so a run that finds nothing to do changes nothing. A failure fails
the deployment.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import CfnResource, Duration, Fn, RemovalPolicy, Stack, triggers
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra import nag
from infra.constructs.data import Access, Data
from infra.constructs.lambda_factory import FunctionRuntime, log_retention

# CDK's one provider of every trigger in the stack (a Node.js function it adds to the stack).
TRIGGER_PROVIDER_ID = "AWSCDK.TriggerCustomResourceProviderCustomResourceProvider"
# A pool of thousands of users is a few hundred Cognito pages and a put per user the first
# time; later runs only read.
FUNCTION_TIMEOUT = Duration.minutes(10)


class AccessMigration(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        runtime: FunctionRuntime,
        data: Data,
        user_pool: cognito.IUserPool,
        team_group_prefix: str | None,
        execute_after: Sequence[Construct],
        log_retention_days: int,
    ) -> None:
        super().__init__(scope, construct_id)
        migration = runtime.new_function(
            self,
            "Function",
            handler="access.handler.lambda_handler",
            service="access",
            description="Tally access migration: explicit roles for every user (run on deploy)",
            memory_size=512,
            timeout=FUNCTION_TIMEOUT,
            environment={
                "TALLY_USER_POOL_ID": user_pool.user_pool_id,
                **({"TALLY_TEAM_GROUP_PREFIX": team_group_prefix} if team_group_prefix else {}),
            },
        )
        self.function = migration.function
        nag.acknowledge(
            self.function,
            "Serverless-LambdaDLQ",
            "The CloudFormation trigger invokes this function synchronously and fails the "
            "deployment with its error; a dead-letter queue only receives asynchronous "
            "invocations, and the migration is re-run by the next deploy.",
        )
        # Profiles, teams and the snapshot: read, and written in transactions.
        data.grant(self.function, Access.READ_WRITE, ["access"])
        # The migration's audit entries (PutItem inside the transactions), and the backfill of
        # "listed" on older entries: a paged Scan of the table, then UpdateItem per entry.
        audit = data.tables["audit"].table_arn
        migration.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["dynamodb:PutItem", "dynamodb:Scan", "dynamodb:UpdateItem"],
                resources=[audit],
            )
        )
        # The backfill of "resource_key" on cost lines written before their "by-resource"
        # index: the same paged Scan, then a conditional UpdateItem per line.
        migration.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["dynamodb:Scan", "dynamodb:UpdateItem"],
                resources=[data.tables["costs"].table_arn],
            )
        )
        # Who is in the pool and in each group: paged list calls, never one call per user.
        user_pool.grant(
            self.function,
            "cognito-idp:ListUsers",
            "cognito-idp:ListGroups",
            "cognito-idp:ListUsersInGroup",
        )

        self.trigger = triggers.Trigger(
            self,
            "OnDeploy",
            handler=self.function,
            timeout=FUNCTION_TIMEOUT,
            invocation_type=triggers.InvocationType.REQUEST_RESPONSE,
            execute_on_handler_change=True,
            execute_after=list(execute_after),
        )
        self._retain_provider_logs(log_retention_days)

    def _retain_provider_logs(self, days: int) -> None:
        """The trigger provider's function logs to /aws/lambda/<its name>, which Lambda would
        create without a retention: create it first, with the stack's retention."""
        provider = Stack.of(self).node.find_child(TRIGGER_PROVIDER_ID)
        handler = provider.node.find_child("Handler")
        assert isinstance(handler, CfnResource)
        log_group = logs.LogGroup(
            self,
            "TriggerProviderLogs",
            log_group_name=Fn.join("", ["/aws/lambda/", handler.ref]),
            retention=log_retention(days),
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.trigger.node.add_dependency(log_group)
