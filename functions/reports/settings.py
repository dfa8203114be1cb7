"""The reports function's settings: the shared ones (``tally.settings``) plus where its files
go and who its invoice emails come from.

Read through ``ReportsSettings.load()``: parsed on the first invocation of a container and
kept (``tally.settings.FunctionSettings``); a missing or bad value fails the invocation with a
``ConfigurationError`` naming the variable, before any job is touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from tally.settings import ConfigurationError, Environment, FunctionSettings

if TYPE_CHECKING:
    from tally.notify import NotifySettings

REPORTS_BUCKET = "TALLY_REPORTS_BUCKET"
SENDER_EMAIL = "TALLY_SENDER_EMAIL"
SES_CONFIGURATION_SET = "TALLY_SES_CONFIGURATION_SET"
DASHBOARD_URL = "TALLY_DASHBOARD_URL"
ADMIN_TOPIC_ARN = "TALLY_ADMIN_TOPIC_ARN"

# Every object the function writes is under this prefix: its IAM grant and the bucket's
# 7-day lifecycle rule name the same one (infra/constructs/reports.py, storage.py).
REPORTS_PREFIX = "reports/"


@dataclass(frozen=True)
class ReportsSettings(FunctionSettings):
    # The bucket the exports and invoices are written to (the exports bucket, reports/*).
    reports_bucket: str = ""
    # Invoice emails come from this verified SES identity; None: a job that asks for an
    # email fails with a reason (the download still works), the rest of the function runs.
    sender_email: str | None = None
    configuration_set: str | None = None
    # The invoice email links to the dashboard when set.
    dashboard_url: str | None = None
    # Commitment expiry notices go to the admins' topic (tally.commitments.expiry); None: the
    # in-app notices are sent and the topic's copy is skipped with a warning.
    admin_topic_arn: str | None = None

    variables: ClassVar[tuple[str, ...]] = (
        REPORTS_BUCKET,
        SENDER_EMAIL,
        SES_CONFIGURATION_SET,
        DASHBOARD_URL,
        ADMIN_TOPIC_ARN,
    )

    @classmethod
    def parse(cls, env: Environment) -> dict[str, Any]:
        bucket = (env[REPORTS_BUCKET] or "").strip()
        if not bucket:
            raise ConfigurationError(f"environment variable {REPORTS_BUCKET} is required")
        return {
            "reports_bucket": bucket,
            "sender_email": (env[SENDER_EMAIL] or "").strip() or None,
            "configuration_set": (env[SES_CONFIGURATION_SET] or "").strip() or None,
            "dashboard_url": (env[DASHBOARD_URL] or "").strip() or None,
            "admin_topic_arn": (env[ADMIN_TOPIC_ARN] or "").strip() or None,
        }

    def notify_settings(self) -> NotifySettings:
        """The email channel and the admins' topic (``tally.notify.aws_channels``); the others
        stay unconfigured."""
        from tally.notify import NotifySettings

        return NotifySettings(
            region=self.region,
            sender_email=self.sender_email,
            configuration_set=self.configuration_set,
            aws_endpoint_url=self.aws_endpoint_url,
            admin_topic_arn=self.admin_topic_arn,
        )


# Deliveries of one job message before SQS moves it to the dead-letter queue (the queue's
# maxReceiveCount, infra/constructs/reports.py): the function fails the job on the last one,
# so no job stays pending for ever.
JOB_MAX_RECEIVES = 3
