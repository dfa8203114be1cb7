"""The admins' SNS topic: one message per over-budget user, with String message attributes
(level, userId, period) that subscribers filter on (a chat integration, an on-call pager)."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

from tally.notify.failures import send_failure

# SNS subjects: ASCII, no line breaks or control characters, fewer than 100 characters.
_SUBJECT_MAX = 99


def sns_subject(subject: str) -> str:
    """``subject`` as SNS accepts it (accents dropped, "Zoë" -> "Zoe"); email subscribers see it."""
    ascii_only = unicodedata.normalize("NFKD", subject).encode("ascii", "ignore").decode()
    printable = " ".join("".join(c if c.isprintable() else " " for c in ascii_only).split())
    return printable[:_SUBJECT_MAX] or "Tally alert"


class SnsAdminTopic:
    """``client`` is a boto3 ``sns`` client."""

    def __init__(self, client: Any, topic_arn: str) -> None:
        self._client = client
        self.topic_arn = topic_arn

    def publish(self, *, subject: str, message: str, attributes: Mapping[str, str]) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self._client.publish(
                TopicArn=self.topic_arn,
                Subject=sns_subject(subject),
                Message=message,
                # SNS refuses an empty attribute value: an attribute without one is left out.
                MessageAttributes={
                    name: {"DataType": "String", "StringValue": value}
                    for name, value in attributes.items()
                    if value
                },
            )
        except (ClientError, BotoCoreError) as error:
            raise send_failure(error) from error
        return str(response["MessageId"])
