"""Budget alerts: "CostsIngested" on the domain-event bus -> the alerts function, which
evaluates the users whose figures changed (or fans them out through SQS when there are many)
and notifies by SES email, the admin SNS topic, in-app notifications and chat webhooks.

Also here: the hourly drain of deferred emails, the SES configuration set whose bounces and
complaints come back through SNS to the same function, the KMS key that seals webhook URLs
and the secret that signs unsubscribe links (the API uses both too: ``grant_api``).
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as eventbridge
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_ses as ses
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import nag
from infra.constructs.data import Access, Data
from infra.constructs.events import Events
from infra.constructs.lambda_factory import FunctionRuntime
from infra.constructs.messaging import Messaging
from infra.names import EMAIL_FEEDBACK_TOPIC, METRICS_NAMESPACE
from tally import events as domain_events

SERVICE = "alerts"
# A run of fewer users than the fan-out threshold is evaluated in one invocation: 200 users
# take well under a minute; the rest of the timeout is for SES and DynamoDB on a bad day.
FUNCTION_TIMEOUT = Duration.minutes(5)
# Lambda's guidance for an SQS event source: at least six times the function's timeout, so
# a message is not handed to a second invocation while the first still works on it.
FAN_OUT_VISIBILITY = Duration.minutes(30)
# A user whose evaluation failed this often waits in the dead-letter queue for an operator.
FAN_OUT_MAX_RECEIVES = 3
FAN_OUT_BATCH_SIZE = 10
# At most this many invocations read the queue at once: SES's sending rate and DynamoDB
# on-demand ramp-up are the limits, not Lambda's.
FAN_OUT_MAX_CONCURRENCY = 5
RULE_RETRY_ATTEMPTS = 3
RULE_MAX_EVENT_AGE = Duration.hours(6)
DRAIN_RATE = Duration.hours(1)
DEFAULT_EMAIL_CAP = 500
DEFAULT_FANOUT_MIN_USERS = 200
# SES events that mean an address should not be mailed again (bounce, complaint) or that a
# message never left (reject, rendering failure): the function records the first two and
# logs the others.
FEEDBACK_EVENTS = (
    ses.EmailSendingEvent.BOUNCE,
    ses.EmailSendingEvent.COMPLAINT,
    ses.EmailSendingEvent.REJECT,
    ses.EmailSendingEvent.RENDERING_FAILURE,
)
# The metrics the function emits (functions/alerts/handler.py), with its service dimension.
METRIC_DIMENSIONS = {"service": f"tally-{SERVICE}"}


class Alerts(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        runtime: FunctionRuntime,
        data: Data,
        events: Events,
        messaging: Messaging,
        dashboard_url: str,
        api_url: str,
        email_cap: int = DEFAULT_EMAIL_CAP,
        fanout_min_users: int = DEFAULT_FANOUT_MIN_USERS,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)

        # Events that could not be delivered or whose invocation failed after every retry:
        # from both rules, Lambda's asynchronous retries and the SES feedback subscription.
        self.dead_letter_queue = self._queue("FailedEvents")
        nag.acknowledge_dead_letter_queue(
            self.dead_letter_queue,
            of="the alerts rules, function and feedback subscription",
            used_by_function=True,
        )
        # Users the fan-out could not evaluate after FAN_OUT_MAX_RECEIVES attempts.
        self.fan_out_dead_letter_queue = self._queue("FanOutFailures")
        nag.acknowledge_dead_letter_queue(
            self.fan_out_dead_letter_queue, of="the alerts fan-out queue", used_by_function=True
        )
        self.queue = sqs.Queue(
            self,
            "FanOut",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=FAN_OUT_VISIBILITY,
            retention_period=Duration.days(4),
            dead_letter_queue=sqs.DeadLetterQueue(
                max_receive_count=FAN_OUT_MAX_RECEIVES, queue=self.fan_out_dead_letter_queue
            ),
        )

        # Webhook URLs are credentials (whoever has one can post to the channel): sealed per
        # user with this key. Retained: the preferences that hold the sealed URLs are.
        self.webhook_key = kms.Key(
            self,
            "WebhookKey",
            description="Tally: seals users' chat webhook URLs (encryption context userId)",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        # The HMAC keys of unsubscribe links, {"current": ...} like the page-token keys.
        # Retained: links already mailed must keep working after a stack replacement.
        self.unsubscribe_secret = secretsmanager.Secret(
            self,
            "UnsubscribeKeys",
            description="Tally: HMAC keys for digest unsubscribe links (rotation: docs/deploy.md)",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template="{}",  # noqa: S106 - an empty JSON object
                generate_string_key="current",
                password_length=64,
                exclude_punctuation=True,
            ),
            removal_policy=RemovalPolicy.RETAIN,
        )
        nag.acknowledge(
            self.unsubscribe_secret,
            "AwsSolutions-SMG4",
            "Secrets Manager's scheduled rotation needs a rotation function of its own for a "
            "key that is not a database credential; the keys only sign unsubscribe links, and "
            "docs/deploy.md rotates them by hand (the old key stays as previous, so links "
            "already mailed keep working), which both functions take within minutes.",
        )

        # Bounces and complaints come back through this topic (encrypted with the messaging
        # key, which SES may use for this topic only through the service's own principal).
        self.configuration_set = ses.ConfigurationSet(
            self,
            "ConfigurationSet",
            reputation_metrics=True,
            sending_enabled=True,
            # SES's own suppression list as a second guard behind the preferences' one.
            suppression_reasons=ses.SuppressionReasons.BOUNCES_AND_COMPLAINTS,
        )
        self.feedback_topic = sns.Topic(
            self,
            "Feedback",
            topic_name=f"{stack.stack_name}-{EMAIL_FEEDBACK_TOPIC}",
            display_name="Tally email feedback",
            master_key=messaging.topic_key,
            enforce_ssl=True,
        )
        messaging.topic_key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="SesPublishesFeedback",
                principals=[iam.ServicePrincipal("ses.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],  # in a key policy, "*" is this key
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            )
        )
        self.configuration_set.add_event_destination(
            "Feedback",
            destination=ses.EventDestination.sns_topic(self.feedback_topic),
            events=list(FEEDBACK_EVENTS),
        )
        configuration_set_arn = stack.format_arn(
            service="ses",
            resource="configuration-set",
            resource_name=self.configuration_set.configuration_set_name,
        )

        alerts = runtime.new_function(
            self,
            "Function",
            handler="alerts.handler.lambda_handler",
            service=SERVICE,
            description="Tally alerts: budget alerts, digests and notices after each ingest",
            memory_size=1024,
            timeout=FUNCTION_TIMEOUT,
            dead_letter_queue=self.dead_letter_queue,
            environment={
                "TALLY_SENDER_EMAIL": messaging.sender_email,
                "TALLY_SES_CONFIGURATION_SET": self.configuration_set.configuration_set_name,
                "TALLY_ADMIN_TOPIC_ARN": messaging.admin_alerts.topic_arn,
                "TALLY_DASHBOARD_URL": dashboard_url,
                "TALLY_API_URL": api_url,
                "TALLY_ALERT_EMAIL_CAP": str(email_cap),
                "TALLY_WEBHOOK_KEY_ID": self.webhook_key.key_arn,
                "TALLY_UNSUBSCRIBE_SECRET_ID": self.unsubscribe_secret.secret_arn,
                "TALLY_ALERTS_QUEUE_URL": self.queue.queue_url,
                "TALLY_ALERTS_FANOUT_MIN_USERS": str(fanout_min_users),
            },
        )
        self.function = alerts.function
        self.role = alerts.role

        self.ingested_rule = eventbridge.Rule(
            self,
            "Ingested",
            event_bus=events.event_bus,
            event_pattern=eventbridge.EventPattern(
                source=[domain_events.SOURCE], detail_type=[domain_events.COSTS_INGESTED]
            ),
            description="Tally: evaluate budget alerts after each cost ingest",
            targets=[self._target()],
        )
        # The default scheduled event ({"source": "aws.events", "detail-type": "Scheduled
        # Event"}) is what the handler knows as a drain.
        self.drain_rule = eventbridge.Rule(
            self,
            "Drain",
            schedule=eventbridge.Schedule.rate(DRAIN_RATE),
            description="Tally: send the alert emails a run deferred, oldest first",
            targets=[self._target()],
        )
        self.function.add_event_source(
            sources.SqsEventSource(
                self.queue,
                batch_size=FAN_OUT_BATCH_SIZE,
                max_batching_window=Duration.seconds(5),
                max_concurrency=FAN_OUT_MAX_CONCURRENCY,
                report_batch_item_failures=True,
            )
        )
        nag.acknowledge(
            self.function,
            "Serverless-LambdaEventSourceMappingDestination",
            "Lambda supports on-failure destinations for stream and Kafka event sources, not "
            "for SQS: a user that keeps failing moves to the fan-out queue's dead-letter "
            "queue through its redrive policy (maxReceiveCount), which an alarm watches.",
        )
        self.feedback_topic.add_subscription(
            subscriptions.LambdaSubscription(
                self.function, dead_letter_queue=self.dead_letter_queue
            )
        )

        self._grant(
            data,
            messaging,
            sender_identity_arn=messaging.sender_identity.email_identity_arn,
            configuration_set_arn=configuration_set_arn,
        )

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

    def _grant(
        self,
        data: Data,
        messaging: Messaging,
        *,
        sender_identity_arn: str,
        configuration_set_arn: str,
    ) -> None:
        data.grant(
            self.function,
            Access.READ_WRITE,
            ["alerts", "notifications", "preferences", "anomalies"],
        )
        data.grant(self.function, Access.READ, ["users", "budgets", "rollups", "costs"])
        # A team budget's alerts go to the team's managers (the team item and the snapshot).
        data.grant(self.function, Access.READ, ["access"])
        statements = [
            # SESv2 SendEmail authorises against the sender identity and the configuration set.
            iam.PolicyStatement(
                actions=["ses:SendEmail", "ses:SendRawEmail"],
                resources=[sender_identity_arn, configuration_set_arn],
            ),
            iam.PolicyStatement(
                actions=["sns:Publish"], resources=[messaging.admin_alerts.topic_arn]
            ),
            # Publishing to a KMS-encrypted topic encrypts with its key.
            iam.PolicyStatement(
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=[messaging.topic_key.key_arn],
            ),
            # SendMessageBatch is authorised as SendMessage.
            iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[self.queue.queue_arn]),
        ]
        for statement in statements:
            self.role.add_to_principal_policy(statement)
        self.grant_secrets(self.role, seal=False)

    def grant_secrets(self, grantee: iam.IGrantable, *, seal: bool) -> None:
        """Open (and, with ``seal``, seal) webhook URLs and read the unsubscribe keys.

        Only with the userId encryption context ``tally.notify`` binds each URL to, so the
        key cannot be used for anything else. GetSecretValue alone, not CDK's grant_read
        (which adds DescribeSecret).
        """
        principal = grantee.grant_principal
        principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["kms:Decrypt", "kms:Encrypt"] if seal else ["kms:Decrypt"],
                resources=[self.webhook_key.key_arn],
                conditions={"Null": {"kms:EncryptionContext:userId": "false"}},
            )
        )
        principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["secretsmanager:GetSecretValue"],
                resources=[self.unsubscribe_secret.secret_arn],
            )
        )

    @property
    def environment(self) -> dict[str, str]:
        """What the API needs to seal webhook URLs and verify unsubscribe links."""
        return {
            "TALLY_WEBHOOK_KEY_ID": self.webhook_key.key_arn,
            "TALLY_UNSUBSCRIBE_SECRET_ID": self.unsubscribe_secret.secret_arn,
        }

    def metric(self, name: str, *, period: Duration) -> cloudwatch.Metric:
        """One of the function's run metrics (EmailsSent, EmailsDeferred, ...), summed."""
        return cloudwatch.Metric(
            namespace=METRICS_NAMESPACE,
            metric_name=name,
            dimensions_map=METRIC_DIMENSIONS,
            statistic="Sum",
            period=period,
        )
