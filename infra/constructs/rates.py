"""Exchange rates (issue 17): EventBridge Scheduler -> the rates function, daily, which reads
the configured reference-rates document (default the ECB's daily XML) into the billing table.

The ECB publishes around 16:00 CET on business days; the run at 17:00 UTC reads that day's
rates, and a day it misses (an outage) is covered by the next run's history URL if one is
configured, or by the "latest earlier rate" rule until the next publication. Its role writes
the billing table (the rates' items) and nothing else; the function reaches the internet
through Lambda's own network (no VPC), which is all it needs.
"""

from __future__ import annotations

from aws_cdk import Duration, Stack, TimeZone
from aws_cdk import aws_iam as iam
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as targets
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import nag
from infra.constructs.data import Access, Data
from infra.constructs.lambda_factory import FunctionRuntime

SERVICE = "rates"
MEMORY_MB = 256
FUNCTION_TIMEOUT = Duration.minutes(1)  # one HTTPS read of ~100 kB and a batch write
SCHEDULE = "cron(0 17 * * ? *)"  # after the ECB's ~16:00 CET publication
SCHEDULED_EVENT = {
    "source": "tally.schedule",
    "trigger": "daily-rates",
    "executionId": scheduler.ContextAttribute.execution_id,
    "scheduledTime": scheduler.ContextAttribute.scheduled_time,
}
SCHEDULE_RETRY_ATTEMPTS = 3
SCHEDULE_MAX_EVENT_AGE = Duration.hours(6)


class Rates(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        runtime: FunctionRuntime,
        data: Data,
        rates_url: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.dead_letter_queue = sqs.Queue(
            self,
            "FailedRuns",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        nag.acknowledge_dead_letter_queue(
            self.dead_letter_queue, of="the rates schedule and function", used_by_function=True
        )
        environment = {"TALLY_RATES_URL": rates_url} if rates_url else {}
        made = runtime.new_function(
            self,
            "Function",
            handler="rates.handler.lambda_handler",
            service=SERVICE,
            description="Tally rates: reads the daily exchange rates into the billing table",
            memory_size=MEMORY_MB,
            timeout=FUNCTION_TIMEOUT,
            dead_letter_queue=self.dead_letter_queue,
            environment=environment,
        )
        self.function = made.function
        self.role = made.role
        data.grant(self.role, Access.WRITE, ["billing"])

        schedule_role = iam.Role(
            self,
            "ScheduleRole",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            ),
            description="Tally: EventBridge Scheduler invokes the rates function",
        )
        self.schedule = scheduler.Schedule(
            self,
            "Daily",
            description="Tally: daily exchange rates",
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
            "CDK's grantInvoke covers the rates function and its versions and aliases "
            "(<function ARN>:*); it is scoped to this one function.",
        )
