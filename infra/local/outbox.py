"""The local outbox: what the handlers sent through SES (v1 or v2) to moto, newest first.

Read from moto's SES backend in this process rather than ``/moto-api/data.json``: that
endpoint serialises every model of every service, which gets slow once DynamoDB holds a
few thousand billing records.
"""

from __future__ import annotations

import email
import email.policy
import html
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from moto.ses.models import ses_backends


@dataclass(frozen=True)
class SentEmail:
    message_id: str
    source: str
    to: tuple[str, ...]
    subject: str
    body: str
    kind: str  # "simple" | "raw" | "template"

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["to"] = list(self.to)
        return data


def _recipients(destinations: Any) -> tuple[str, ...]:
    if isinstance(destinations, dict):
        found: list[str] = []
        for field in ("ToAddresses", "CcAddresses", "BccAddresses"):
            found.extend(destinations.get(field, []))
        return tuple(found)
    if isinstance(destinations, list | tuple):
        # send_raw_email lists To recipients twice when both Destinations and the header name them
        return tuple(dict.fromkeys(str(d) for d in destinations))
    return ()


def _raw_parts(raw: str) -> tuple[str, str]:
    message = email.message_from_string(raw, policy=email.policy.default)
    subject = str(message.get("Subject", ""))
    part = message.get_body(preferencelist=("plain", "html"))  # type: ignore[attr-defined]
    body = part.get_content() if part is not None else ""
    return subject, str(body)


def _to_sent_email(message: Any) -> SentEmail | None:
    kind = type(message).__name__
    if kind == "Message":
        return SentEmail(
            message.id,
            message.source,
            _recipients(message.destinations),
            message.subject,
            message.body,
            "simple",
        )
    if kind == "RawMessage":
        subject, body = _raw_parts(message.raw_data)
        return SentEmail(
            message.id, message.source, _recipients(message.destinations), subject, body, "raw"
        )
    if kind == "TemplateMessage":
        body = f"template {message.template} with {message.template_data}"
        return SentEmail(
            message.id,
            message.source,
            _recipients(message.destinations),
            f"(template {message.template})",
            body,
            "template",
        )
    return None


def sent_emails() -> list[SentEmail]:
    """Every email moto's SES holds in this process (all accounts and regions), newest first."""
    found: list[SentEmail] = []
    for regions in list(ses_backends.values()):
        for backend in list(regions.values()):
            for message in list(backend.sent_messages):
                converted = _to_sent_email(message)
                if converted is not None:
                    found.append(converted)
    found.reverse()  # moto appends in sending order
    return found


def render_outbox(emails: Iterable[SentEmail]) -> str:
    """An HTML page; email bodies are escaped, and HTML bodies shown in a sandboxed frame."""
    items = []
    for sent in emails:
        looks_html = "<" in sent.body and ">" in sent.body
        if looks_html:
            rendered = (
                f'<iframe sandbox="" srcdoc="{html.escape(sent.body, quote=True)}"></iframe>'
                f"<details><summary>source</summary><pre>{html.escape(sent.body)}</pre></details>"
            )
        else:
            rendered = f"<pre>{html.escape(sent.body)}</pre>"
        items.append(
            "<article>"
            f"<h2>{html.escape(sent.subject) or '(no subject)'}</h2>"
            f"<p><b>To:</b> {html.escape(', '.join(sent.to))} &middot; "
            f"<b>From:</b> {html.escape(sent.source)} &middot; "
            f"<small>{html.escape(sent.kind)} {html.escape(sent.message_id)}</small></p>"
            f"{rendered}</article>"
        )
    content = "".join(items) or "<p>No email has been sent yet.</p>"
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<title>Tally local outbox</title><style>"
        "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
        "article{border:1px solid #ccc;border-radius:6px;padding:0 1rem 1rem;margin:1rem 0}"
        "pre{white-space:pre-wrap}iframe{width:100%;height:20rem;border:1px solid #eee}"
        "</style></head><body><h1>Outbox</h1>"
        "<p>Emails sent through SES to the local stack, newest first "
        "(also as <a href='/outbox.json'>JSON</a>).</p>"
        f"{content}</body></html>"
    )
