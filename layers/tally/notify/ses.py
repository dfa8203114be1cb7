"""Email through SES (sesv2 ``SendEmail``) as a raw MIME message, so the digest's
List-Unsubscribe headers travel with it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from email.message import EmailMessage
from email.policy import SMTP
from typing import Any

from tally.notify.failures import send_failure
from tally.notify.ports import OutgoingEmail, SendFailed

# RFC 5322's hard line limit. With the default 78, Python folds a long header that has no
# spaces (the unsubscribe URL) into RFC 2047 encoded-words, which no mail client reads as a URL.
# Lines end in LF, as in the SES guide's own Python example: SES puts CRLF on the wire, and a
# part read back from the message (the local outbox, tests) is the rendered text unchanged.
_POLICY = SMTP.clone(max_line_length=998, linesep="\n")

# Headers this module writes itself, and recipients: a rendered email may not set them.
_OWN_HEADERS = frozenset(
    {"from", "to", "cc", "bcc", "sender", "subject", "mime-version", "content-type"}
)

# sesv2 MessageTag: "only ASCII letters, numbers, underscores or dashes", at most 256 chars.
_TAG_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
_TAG_MAX = 256


def tag_value(value: str) -> str:
    """``value`` as SES accepts it in a tag: other characters become ``_``."""
    return _TAG_UNSAFE.sub("_", value)[:_TAG_MAX]


def email_tags(tags: Mapping[str, str]) -> list[dict[str, str]]:
    cleaned = ((tag_value(name), tag_value(value)) for name, value in tags.items())
    return [{"Name": name, "Value": value} for name, value in cleaned if name and value]


def mime_message(email: OutgoingEmail, *, sender: str) -> bytes:
    """The multipart/alternative message (text first, so clients prefer the HTML), UTF-8,
    quoted-printable: inlined CSS makes HTML lines longer than SMTP allows unencoded. With
    attachments, a multipart/mixed message holding that alternative part, then each file
    (base64)."""
    rendered = email.rendered
    for name, value in (("To", email.to), ("From", sender), *rendered.headers.items()):
        if "\r" in value or "\n" in value or "\r" in name or "\n" in name:
            raise SendFailed(f"the {name} header holds a line break", retryable=False)
    message = EmailMessage(policy=_POLICY)
    message["From"] = sender
    message["To"] = email.to
    message["Subject"] = rendered.subject
    for name, value in rendered.headers.items():
        if name.lower() in _OWN_HEADERS:
            raise SendFailed(f"a rendered email may not set the {name} header", retryable=False)
        message[name] = value
    message.set_content(rendered.text, charset="utf-8", cte="quoted-printable")
    message.add_alternative(rendered.html, subtype="html", charset="utf-8", cte="quoted-printable")
    for attachment in email.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        # The first one turns the message into multipart/mixed around the alternative part.
        message.add_attachment(
            attachment.data, maintype=maintype, subtype=subtype, filename=attachment.filename
        )
    return message.as_bytes()


class SesEmailSender:
    """``client`` is a boto3 ``sesv2`` client. ``sender`` is the verified From address
    ("Tally <alerts@example.com>" or a bare address); ``configuration_set`` routes the
    bounce, complaint and delivery events (which carry the tags) to the feedback topic."""

    def __init__(self, client: Any, *, sender: str, configuration_set: str | None = None) -> None:
        self._client = client
        self.sender = sender
        self.configuration_set = configuration_set

    def send(self, email: OutgoingEmail) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        request: dict[str, Any] = {
            "FromEmailAddress": self.sender,
            "Destination": {"ToAddresses": [email.to]},
            "Content": {"Raw": {"Data": mime_message(email, sender=self.sender)}},
        }
        tags = email_tags(email.tags)
        if tags:
            request["EmailTags"] = tags
        if self.configuration_set:
            request["ConfigurationSetName"] = self.configuration_set
        try:
            response = self._client.send_email(**request)
        except (ClientError, BotoCoreError) as error:
            raise send_failure(error) from error
        return str(response["MessageId"])
