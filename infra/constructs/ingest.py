"""The daily cost ingest: EventBridge Scheduler -> ingest function -> "CostsIngested" event
on the domain-event bus (``infra.constructs.events``).

The function fetches the organisation's costs once (Cost Explorer, or a FOCUS export in the
exports bucket), allocates them to users, replaces each re-read day and recomputes roll-ups.
Data Exports writes FOCUS as CSV or Parquet; Parquet needs pyarrow, which comes in a layer of
this function's own (``requirements-ingest.txt``) so the API function stays small.
"""

from __future__ import annotations

from aws_cdk import Duration, Stack, TimeZone
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as targets
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import nag
from infra.bundling import INGEST_LAYER
from infra.constructs.data import Access, Data
from infra.constructs.events import Events
from infra.constructs.lambda_factory import FunctionRuntime, dependencies_layer

# The input the schedule sends; the handler tells a scheduled run from a manual one by it.
# The execution id makes a duplicate delivery of one scheduled run recognisable; the
# scheduled time (not the time of a delayed or retried attempt) decides which days to read.
SCHEDULED_EVENT = {
    "source": "tally.schedule",
    "trigger": "daily",
    "executionId": scheduler.ContextAttribute.execution_id,
    "scheduledTime": scheduler.ContextAttribute.scheduled_time,
}
SCHEDULE_RETRY_ATTEMPTS = 3
SCHEDULE_MAX_EVENT_AGE = Duration.hours(6)


class Ingest(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        runtime: FunctionRuntime,
        data: Data,
        events: Events,
        user_pool: cognito.IUserPool,
        export_bucket: s3.IBucket,
        schedule_expression: str,
        cost_source: str,
        restatement_days: int,
    ) -> None:
        super().__init__(scope, construct_id)

        # Runs that failed after every retry, from the scheduler (could not invoke) and from
        # Lambda (the function failed): one queue, one alarm, one place to look.
        self.dead_letter_queue = sqs.Queue(
            self,
            "FailedRuns",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        nag.acknowledge_dead_letter_queue(
            self.dead_letter_queue, of="the ingest schedule and function", used_by_function=True
        )

        self.parquet_layer = dependencies_layer(
            self,
            "ParquetDependencies",
            spec=INGEST_LAYER,
            description="Tally ingest: pyarrow, to read Parquet FOCUS exports",
        )
        ingest = runtime.new_function(
            self,
            "Function",
            handler="ingest.handler.lambda_handler",
            service="ingest",
            description="Tally ingest: fetch, allocate and roll up the organisation's costs",
            memory_size=1024,
            # A whole organisation's day of cost lines, paged from Cost Explorer at its rate.
            timeout=Duration.minutes(10),
            dead_letter_queue=self.dead_letter_queue,
            extra_layers=[self.parquet_layer],
            # No X-Ray SDK or Sentry: with pyarrow the function is near Lambda's size limit.
            observability=False,
            environment={
                "TALLY_COST_SOURCE": cost_source,
                "TALLY_EXPORT_BUCKET": export_bucket.bucket_name,
                "TALLY_EVENT_BUS_NAME": events.event_bus.event_bus_name,
                "TALLY_USER_POOL_ID": user_pool.user_pool_id,
                "TALLY_RESTATEMENT_DAYS": str(restatement_days),
            },
        )
        self.function = ingest.function

        # idempotency: Powertools' records that make a retried run a no-op.
        data.grant(self.function, Access.READ_WRITE, ["costs", "rollups", "users", "idempotency"])
        # Every assignment, once a run: a Scan is the cheapest full read (the only one).
        data.grant(self.function, Access.READ, ["assignments"], scan=True)
        events.grant_publish(self.function)
        # ListUsers finds a user by sub; AdminListGroupsForUser tells an admin from a user.
        user_pool.grant(
            self.function, "cognito-idp:ListUsers", "cognito-idp:AdminListGroupsForUser"
        )

        exports = iam.Policy(
            self,
            "ReadExports",
            statements=[
                iam.PolicyStatement(
                    actions=["s3:ListBucket"], resources=[export_bucket.bucket_arn]
                ),
                iam.PolicyStatement(
                    actions=["s3:GetObject"], resources=[export_bucket.arn_for_objects("*")]
                ),
            ],
        )
        exports.attach_to_role(ingest.role)
        nag.acknowledge_wildcard_resources(
            exports,
            [export_bucket.arn_for_objects("*")],
            "AWS Data Exports writes each billing period's FOCUS files under new keys "
            "(…/BILLING_PERIOD=YYYY-MM/…), so reads cover the objects of this one bucket, "
            "read-only.",
        )

        cost_explorer = iam.Policy(
            self,
            "ReadCostExplorer",
            statements=[
                iam.PolicyStatement(
                    actions=["ce:GetCostAndUsage", "ce:GetCostAndUsageWithResources"],
                    resources=["*"],
                )
            ],
        )
        cost_explorer.attach_to_role(ingest.role)
        nag.acknowledge_wildcard_resources(
            cost_explorer,
            ["*"],
            "Cost Explorer's GetCostAndUsage and GetCostAndUsageWithResources support no "
            "resource-level permissions (AWS Service Authorization Reference); both are "
            "read-only.",
        )

        # Our own role rather than CDK's stack-wide one, so it is this schedule's alone and its
        # one acknowledgement sits next to the grant it covers.
        schedule_role = iam.Role(
            self,
            "ScheduleRole",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}},
            ),
            description="Tally: EventBridge Scheduler invokes the ingest function",
        )
        self.schedule = scheduler.Schedule(
            self,
            "Daily",
            description="Tally: daily cost ingest",
            schedule=scheduler.ScheduleExpression.expression(
                schedule_expression, time_zone=TimeZone.ETC_UTC
            ),
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
            "CDK's grantInvoke covers the ingest function and its versions and aliases "
            "(<function ARN>:*); it is scoped to this one function.",
        )
