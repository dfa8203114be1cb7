"""Reports: the function that makes CSV exports and PDF invoices (jobs the API puts on the
reports queue) and refreshes the savings recommendations (after each ingest's
``CostsIngested`` and once a day).

Files go to the exports bucket under ``reports/`` (expired after 7 days by the bucket's
lifecycle rule); the API reads them only to pre-sign download links (``grant_api``).
"""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_events as eventbridge
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct
from reports.settings import JOB_MAX_RECEIVES, REPORTS_PREFIX

from infra import nag
from infra.constructs.data import Access, Data
from infra.constructs.events import Events
from infra.constructs.lambda_factory import FunctionRuntime
from infra.constructs.messaging import Messaging
from tally import events as domain_events

SERVICE = "reports"
MEMORY_MB = 1024
# A 10,000-user month's export or a 500-line invoice takes well under a minute; the rest is
# for S3 and DynamoDB on a bad day.
FUNCTION_TIMEOUT = Duration.minutes(5)
# Lambda's guidance for an SQS event source: at least six times the function's timeout.
JOB_VISIBILITY = Duration.minutes(30)
# One job per invocation: each gets the whole timeout and the whole memory.
JOB_BATCH_SIZE = 1
JOB_MAX_CONCURRENCY = 5
RULE_RETRY_ATTEMPTS = 3
RULE_MAX_EVENT_AGE = Duration.hours(6)
# The daily refresh catches what changed without an ingest (a volume detached, an instance
# gone idle): early morning UTC, after the nightly ingest's usual hours.
DAILY_REFRESH = eventbridge.Schedule.cron(minute="30", hour="5")
DEFAULT_LINK_SECONDS = 900

# Read-only calls of the recommendations refresh (tally.recommendations) that support no
# resource-level permission: Resource "*" is the only form IAM accepts for them.
DESCRIBE_ACTIONS = (
    "ec2:DescribeInstances",
    "ec2:DescribeVolumes",
    "ec2:DescribeAddresses",
    "ec2:DescribeSnapshots",
    "lambda:ListFunctions",
    "s3:ListAllMyBuckets",
    "cloudwatch:GetMetricData",
    "cloudwatch:GetMetricStatistics",
)

# The reserved-capacity refresh (tally.commitments.cost_explorer): exactly the calls it makes.
# None supports a resource-level permission but DescribeSavingsPlans, which reads every plan of
# the account (which ones exist is what it finds).
COMMITMENT_ACTIONS = (
    "ce:GetReservationUtilization",
    "ce:GetReservationCoverage",
    "ce:GetReservationPurchaseRecommendation",
    "ce:GetSavingsPlansUtilization",
    "ce:GetSavingsPlansCoverage",
    "ce:GetSavingsPlansPurchaseRecommendation",
    "savingsplans:DescribeSavingsPlans",
)


class Reports(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        runtime: FunctionRuntime,
        data: Data,
        events: Events,
        messaging: Messaging,
        bucket: s3.IBucket,
        configuration_set_name: str,
        dashboard_url: str,
        org_name: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.bucket = bucket

        # Events whose invocation failed after every retry (both rules, Lambda's async retries).
        self.dead_letter_queue = self._queue("FailedEvents")
        nag.acknowledge_dead_letter_queue(
            self.dead_letter_queue, of="the reports rules and function", used_by_function=True
        )
        # Job messages the function could not take after JOB_MAX_RECEIVES deliveries (the job
        # itself is marked failed on the last one; the message is kept for an operator).
        self.jobs_dead_letter_queue = self._queue("JobFailures")
        nag.acknowledge_dead_letter_queue(
            self.jobs_dead_letter_queue, of="the reports job queue", used_by_function=True
        )
        self.queue = sqs.Queue(
            self,
            "Jobs",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=JOB_VISIBILITY,
            retention_period=Duration.days(1),
            dead_letter_queue=sqs.DeadLetterQueue(
                max_receive_count=JOB_MAX_RECEIVES, queue=self.jobs_dead_letter_queue
            ),
        )

        environment = {
            "TALLY_REPORTS_BUCKET": bucket.bucket_name,
            "TALLY_SENDER_EMAIL": messaging.sender_email,
            "TALLY_SES_CONFIGURATION_SET": configuration_set_name,
            "TALLY_DASHBOARD_URL": dashboard_url,
            # Commitment expiry notices go to the admins' topic, as budget alerts do.
            "TALLY_ADMIN_TOPIC_ARN": messaging.admin_alerts.topic_arn,
        }
        if org_name:
            environment["TALLY_ORG_NAME"] = org_name
        made = runtime.new_function(
            self,
            "Function",
            handler="reports.handler.lambda_handler",
            service=SERVICE,
            description="Tally reports: CSV exports, PDF invoices, savings recommendations",
            memory_size=MEMORY_MB,
            timeout=FUNCTION_TIMEOUT,
            dead_letter_queue=self.dead_letter_queue,
            environment=environment,
        )
        self.function = made.function
        self.role = made.role

        self.function.add_event_source(
            sources.SqsEventSource(
                self.queue,
                batch_size=JOB_BATCH_SIZE,
                max_concurrency=JOB_MAX_CONCURRENCY,
                report_batch_item_failures=True,
            )
        )
        nag.acknowledge(
            self.function,
            "Serverless-LambdaEventSourceMappingDestination",
            "Lambda supports on-failure destinations for stream and Kafka event sources, not "
            "for SQS: a job message that keeps failing moves to the job queue's dead-letter "
            "queue through its redrive policy (maxReceiveCount), which an alarm watches.",
        )
        self.ingested_rule = eventbridge.Rule(
            self,
            "Ingested",
            event_bus=events.event_bus,
            event_pattern=eventbridge.EventPattern(
                source=[domain_events.SOURCE], detail_type=[domain_events.COSTS_INGESTED]
            ),
            description="Tally: refresh the savings recommendations after each cost ingest",
            targets=[self._target()],
        )
        # The default scheduled event ({"source": "aws.events", "detail-type": "Scheduled
        # Event"}) is what the handler knows as a refresh.
        self.daily_rule = eventbridge.Rule(
            self,
            "Daily",
            schedule=DAILY_REFRESH,
            description="Tally: refresh the savings recommendations once a day",
            targets=[self._target()],
        )
        self._grant(data, messaging, stack, configuration_set_name)

    def _queue(self, construct_id: str) -> sqs.Queue:
        return sqs.Queue(
            self,
            construct_id,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )

    def _target(self) -> targets.LambdaFunction:
        return targets.LambdaFunction(
            self.function,
            dead_letter_queue=self.dead_letter_queue,
            retry_attempts=RULE_RETRY_ATTEMPTS,
            max_event_age=RULE_MAX_EVENT_AGE,
        )

    @property
    def objects_arn(self) -> str:
        return self.bucket.arn_for_objects(f"{REPORTS_PREFIX}*")

    def _grant(
        self, data: Data, messaging: Messaging, stack: Stack, configuration_set_name: str
    ) -> None:
        data.grant(self.function, Access.READ_WRITE, ["reports", "recommendations", "commitments"])
        # Expiry notices: in-app notifications to finance and admins.
        data.grant(self.function, Access.READ_WRITE, ["notifications"])
        data.grant(self.function, Access.READ, ["users", "budgets", "costs"])
        # A change of billing periods rebuilds every roll-up from the stored records
        # (tally.periods.recompute, a job on the reports queue).
        data.grant(self.function, Access.READ_WRITE, ["rollups"])
        # Chargeback groups costs by team, department and cost center (the team tree).
        data.grant(self.function, Access.READ, ["access"])
        # The recommendations refresh and cost-center invoices walk every assignment, as the
        # ingest does (no index by resource or cost center): a job, never a request path.
        data.grant(self.function, Access.READ, ["assignments"], scan=True)
        configuration_set_arn = stack.format_arn(
            service="ses", resource="configuration-set", resource_name=configuration_set_name
        )
        statements = [
            # CreateMultipartUpload, UploadPart and CompleteMultipartUpload are authorised as
            # PutObject; an export that fails is aborted.
            iam.PolicyStatement(
                actions=[
                    "s3:PutObject",
                    "s3:GetObject",
                    "s3:AbortMultipartUpload",
                    "s3:ListMultipartUploadParts",
                ],
                resources=[self.objects_arn],
            ),
            # Invoice emails: SESv2 SendEmail authorises against the identity and the set.
            iam.PolicyStatement(
                actions=["ses:SendEmail", "ses:SendRawEmail"],
                resources=[
                    messaging.sender_identity.email_identity_arn,
                    configuration_set_arn,
                ],
            ),
        ]
        for statement in statements:
            self.role.add_to_principal_policy(statement)
        nag.acknowledge_wildcard_resources(
            self.role,
            [self.objects_arn],
            "The reports function writes one file per job under reports/ of the exports "
            "bucket, named by requester and job id at run time; it has no other object access.",
        )
        self._grant_recommendations(stack)
        self._grant_commitments(messaging)

    def _grant_commitments(self, messaging: Messaging) -> None:
        """The reserved-capacity refresh's Cost Explorer and Savings Plans reads, in a policy
        of their own so its acknowledgement covers nothing else; its expiry notices publish
        to the admins' topic (encrypted with the topic key)."""
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["sns:Publish"], resources=[messaging.admin_alerts.topic_arn]
            )
        )
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=[messaging.topic_key.key_arn],
            )
        )
        policy = iam.Policy(
            self,
            "Commitments",
            roles=[self.role],
            statements=[iam.PolicyStatement(actions=list(COMMITMENT_ACTIONS), resources=["*"])],
        )
        nag.acknowledge(
            policy,
            "AwsSolutions-IAM5[Resource::*]",
            "The reserved-capacity refresh reads Cost Explorer's reservation and Savings Plans "
            "utilisation, coverage and purchase recommendations, which support no resource-level "
            "permission, and lists the account's Savings Plans (every one is what it reads).",
        )

    def _grant_recommendations(self, stack: Stack) -> None:
        """Read-only calls of the recommendations refresh, in a policy of their own so their
        acknowledgements cover nothing else."""
        rds_arn = f"arn:{stack.partition}:rds:{stack.region}:{stack.account}:db:*"
        s3_arn = f"arn:{stack.partition}:s3:::*"
        policy = iam.Policy(
            self,
            "Recommendations",
            roles=[self.role],
            statements=[
                iam.PolicyStatement(actions=list(DESCRIBE_ACTIONS), resources=["*"]),
                iam.PolicyStatement(actions=["rds:DescribeDBInstances"], resources=[rds_arn]),
                iam.PolicyStatement(actions=["s3:GetLifecycleConfiguration"], resources=[s3_arn]),
            ],
        )
        nag.acknowledge(
            policy,
            "AwsSolutions-IAM5[Resource::*]",
            "The recommendations refresh lists EC2 instances, volumes, addresses and snapshots, "
            "Lambda functions and S3 buckets and reads CloudWatch metrics: these read-only "
            "calls support no resource-level permissions, so IAM takes only Resource '*'.",
        )
        nag.acknowledge_wildcard_resources(
            policy,
            [s3_arn, rds_arn],
            "The recommendations refresh reads every bucket's lifecycle rules and describes "
            "every RDS instance of the account (read-only): which ones exist is what it finds.",
        )

    def grant_api(self, api_role: iam.IRole, data: Data) -> None:
        """The API stores and reads jobs, queues them and signs download links of the files
        (a pre-signed URL acts with its signer's rights, so the API needs GetObject on them,
        nothing more)."""
        data.grant(api_role, Access.READ_WRITE, ["reports"])
        api_role.add_to_principal_policy(
            iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[self.queue.queue_arn])
        )
        api_role.add_to_principal_policy(
            iam.PolicyStatement(actions=["s3:GetObject"], resources=[self.objects_arn])
        )
        nag.acknowledge_wildcard_resources(
            api_role,
            [self.objects_arn],
            "The API pre-signs download links of the files the reports function wrote under "
            "reports/ (one per job, named at run time); a link acts with the API's rights, so "
            "it may read those objects and no other.",
        )

    def api_environment(self, *, link_seconds: int = DEFAULT_LINK_SECONDS) -> dict[str, str]:
        return {
            "TALLY_REPORTS_QUEUE_URL": self.queue.queue_url,
            "TALLY_REPORTS_BUCKET": self.bucket.bucket_name,
            "TALLY_REPORT_LINK_SECONDS": str(link_seconds),
        }
