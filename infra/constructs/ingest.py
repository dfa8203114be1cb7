"""The daily cost ingest: EventBridge Scheduler -> ingest function (the coordinator) ->
batches queue -> worker function -> "CostsIngested" event on the domain-event bus
(``infra.constructs.events``).

The coordinator fetches the organisation's costs once (Cost Explorer, or a FOCUS export in the
exports bucket), spills the lines to /tmp, writes one partition of owners per object to the work
bucket, records the run in the ``ingestruns`` table and sends one message per partition. The
workers replace each owner's days and recompute their roll-ups and forecasts; the worker that
marks the last partition done sends "finalize" (once: a conditional write), which builds the
organisation's roll-up and announces the run. Decision: SQS with partial batch failures rather
than Step Functions (docs/decision_log.md).

Data Exports writes FOCUS as CSV or Parquet; Parquet needs pyarrow, which comes in a layer of
the coordinator's own (``requirements-ingest.txt``) so the API function stays small. The
workers read the coordinator's JSON partitions and need no pyarrow.
"""

from __future__ import annotations

from aws_cdk import Duration, Size, Stack, TimeZone
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
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

# The coordinator spills the source's lines to /tmp before it partitions them: a large
# organisation's restatement window does not fit Lambda's default 512 MB.
COORDINATOR_EPHEMERAL_STORAGE = Size.gibibytes(4)
WORKER_SERVICE = "ingest-worker"
WORKER_HANDLER = "ingest.worker.lambda_handler"
# 1769 MB is one full vCPU: a partition's roll-ups and forecasts are CPU-bound.
WORKER_MEMORY_MB = 1769
COORDINATOR_MEMORY_MB = 10_240
WORKER_TIMEOUT = Duration.minutes(5)
# Lambda's guidance for an SQS event source: six times the function's timeout, so a partition
# is not handed to a second worker while the first still works on it.
BATCHES_VISIBILITY = Duration.seconds(6 * WORKER_TIMEOUT.to_seconds())
# A partition that failed this often waits in the dead-letter queue for an operator.
BATCH_MAX_RECEIVES = 3
# Up to five partitions per invocation; a failed one is retried alone (ReportBatchItemFailures).
BATCH_SIZE = 5
# SQS drops an expired message without moving it to the dead-letter queue (no alarm would
# tell): keep each as long as its run's working files (the bucket's lifecycle, 14 days).
BATCHES_RETENTION = Duration.days(14)
# The working files the functions read and write (the bucket holds nothing else).
WORK_OBJECTS = "runs/*"


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
        work_bucket: s3.IBucket,
        workers: int,
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

        # Partitions a worker failed on BATCH_MAX_RECEIVES times; an alarm watches its depth.
        self.batches_dead_letter_queue = sqs.Queue(
            self,
            "BatchesFailed",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        nag.acknowledge_dead_letter_queue(
            self.batches_dead_letter_queue, of="the ingest batches queue", used_by_function=True
        )
        self.batches_queue = sqs.Queue(
            self,
            "Batches",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=BATCHES_VISIBILITY,
            retention_period=BATCHES_RETENTION,
            dead_letter_queue=sqs.DeadLetterQueue(
                max_receive_count=BATCH_MAX_RECEIVES, queue=self.batches_dead_letter_queue
            ),
        )
        self.work_bucket = work_bucket
        fan_out = {
            "TALLY_INGEST_QUEUE_URL": self.batches_queue.queue_url,
            "TALLY_INGEST_WORK_BUCKET": work_bucket.bucket_name,
            "TALLY_EVENT_BUS_NAME": events.event_bus.event_bus_name,
        }

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
            description="Tally ingest: read, allocate and partition the organisation's costs",
            # Six vCPUs (Lambda gives one per 1,769 MB; 10,240 MB is the most): the read is
            # one thread, the allocation of the spill files then runs in a process per vCPU
            # (tally.ingest.partition). Memory stays bounded (spill files in /tmp); the size is
            # bought for the CPUs, for a minute or two a day.
            memory_size=COORDINATOR_MEMORY_MB,
            # A whole organisation's window of cost lines, paged from Cost Explorer at its rate.
            timeout=Duration.minutes(10),
            dead_letter_queue=self.dead_letter_queue,
            extra_layers=[self.parquet_layer],
            # No X-Ray SDK or Sentry: with pyarrow the function is near Lambda's size limit.
            observability=False,
            environment={
                **fan_out,
                "TALLY_COST_SOURCE": cost_source,
                "TALLY_EXPORT_BUCKET": export_bucket.bucket_name,
                "TALLY_USER_POOL_ID": user_pool.user_pool_id,
                "TALLY_RESTATEMENT_DAYS": str(restatement_days),
            },
        )
        self.function = ingest.function
        # No ephemeral_storage_size in FunctionRuntime.new_function (yet): set on the resource.
        coordinator = self.function.node.default_child
        assert isinstance(coordinator, lambda_.CfnFunction)
        coordinator.ephemeral_storage = lambda_.CfnFunction.EphemeralStorageProperty(
            size=int(COORDINATOR_EPHEMERAL_STORAGE.to_mebibytes())
        )

        worker = runtime.new_function(
            self,
            "Worker",
            handler=WORKER_HANDLER,
            service=WORKER_SERVICE,
            description="Tally ingest worker: replace a partition's days, roll up, finalize runs",
            memory_size=WORKER_MEMORY_MB,
            timeout=WORKER_TIMEOUT,
            environment=fan_out,
        )
        self.worker = worker.function
        self.worker.add_event_source(
            sources.SqsEventSource(
                self.batches_queue,
                batch_size=BATCH_SIZE,
                max_concurrency=workers,
                report_batch_item_failures=True,
            )
        )
        nag.acknowledge(
            self.worker,
            "Serverless-LambdaDLQ",
            "Only the SQS event source invokes this function, synchronously; a function's "
            "dead-letter queue only receives asynchronous invocations. A partition that keeps "
            "failing reaches the batches queue's own dead-letter queue instead.",
        )
        nag.acknowledge(
            self.worker,
            "Serverless-LambdaEventSourceMappingDestination",
            "Lambda supports on-failure destinations for stream and Kafka event sources, not "
            "for SQS: a partition that keeps failing moves to the batches queue's dead-letter "
            "queue through its redrive policy (maxReceiveCount), which an alarm watches.",
        )
        self._grant_fan_out(data, events, coordinator_role=ingest.role, worker_role=worker.role)

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

    def _grant_fan_out(
        self, data: Data, events: Events, *, coordinator_role: iam.Role, worker_role: iam.Role
    ) -> None:
        """The fan-out's grants: both functions read and write the run's items and working
        files and send to the batches queue (the coordinator its partitions, the worker
        "finalize"); the worker also replaces costs and roll-ups and announces the run."""
        data.grant(coordinator_role, Access.READ_WRITE, ["ingestruns"])
        data.grant(worker_role, Access.READ_WRITE, ["costs", "rollups", "ingestruns"])
        events.grant_publish(self.worker)
        for role in (coordinator_role, worker_role):
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=["sqs:SendMessage"], resources=[self.batches_queue.queue_arn]
                )
            )
        objects = self.work_bucket.arn_for_objects(WORK_OBJECTS)
        work = iam.Policy(
            self,
            "WorkObjects",
            statements=[
                iam.PolicyStatement(actions=["s3:GetObject", "s3:PutObject"], resources=[objects])
            ],
        )
        work.attach_to_role(coordinator_role)
        work.attach_to_role(worker_role)
        nag.acknowledge_wildcard_resources(
            work,
            [objects],
            "Each ingest run writes its partitions and results under new keys "
            "(runs/<run id>/...); the grant covers that prefix of the fan-out's own work "
            "bucket, get and put only (no list, no delete: the lifecycle rule expires them).",
        )
