"""Outgoing messages: the SES sender identity for user emails, and the SNS topics for admin
alerts and operations alarms, encrypted with a key of their own."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_ses as ses
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import nag
from infra.names import ADMIN_ALERTS_TOPIC, OPERATIONS_TOPIC


class Messaging(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, sender_email: str, admin_email: str
    ) -> None:
        super().__init__(scope, construct_id)
        stack_name = Stack.of(self).stack_name

        # SES sends only from a verified identity: AWS emails a link to this address at deploy.
        self.sender_identity = ses.EmailIdentity(
            self, "Sender", identity=ses.Identity.email(sender_email)
        )
        self.sender_email = sender_email

        # A customer managed key, because CloudWatch alarms cannot publish to a topic encrypted
        # with the AWS managed SNS key (its policy cannot name CloudWatch).
        self.topic_key = kms.Key(
            self,
            "TopicKey",
            description="Tally: encrypts the admin-alerts and operations topics",
            enable_key_rotation=True,
            pending_window=Duration.days(7),
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.topic_key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsPublish",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],  # in a key policy, "*" is this key
                conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}},
            )
        )
        self.admin_alerts = self._topic(
            ADMIN_ALERTS_TOPIC, "AdminAlerts", f"{stack_name}-{ADMIN_ALERTS_TOPIC}"
        )
        self.operations = self._topic(
            OPERATIONS_TOPIC, "Operations", f"{stack_name}-{OPERATIONS_TOPIC}"
        )

        # Email deliveries that keep failing (a full mailbox, an unsubscribed address) land
        # here rather than vanishing; monitoring alarms on its depth.
        self.delivery_failures = sqs.Queue(
            self,
            "DeliveryFailures",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        nag.acknowledge_dead_letter_queue(
            self.delivery_failures, of="the admin email subscriptions", used_by_function=False
        )
        for topic in (self.admin_alerts, self.operations):
            topic.add_subscription(
                subscriptions.EmailSubscription(
                    admin_email, dead_letter_queue=self.delivery_failures
                )
            )

    def _topic(self, key: str, construct_id: str, name: str) -> sns.Topic:
        return sns.Topic(
            self,
            construct_id,
            topic_name=name,
            display_name=f"Tally {key}",
            master_key=self.topic_key,
            enforce_ssl=True,
        )
