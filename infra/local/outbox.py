"""The local outbox: what the handlers sent, newest first. Emails through SES (v1 or v2),
messages published to the SNS topics, and the deliveries the stack's own webhook receiver
(``POST /webhooks/<name>``) took.

Read from moto's backends in this process rather than ``/moto-api/data.json``: that endpoint
serialises every model of every service, which gets slow once DynamoDB holds a few thousand
billing records.
"""

from __future__ import annotations

import email
import email.policy
import html
import json
import threading
from collections.abc import Collection, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from moto.ses.models import ses_backends
from moto.sns.models import sns_backends

# Headers the page lists above each email; the rest are under "all headers".
_SHOWN_HEADERS = ("From", "To", "Subject", "Date", "List-Unsubscribe", "List-Unsubscribe-Post")
# A receiver keeps this many deliveries: enough to debug, bounded for a stack left running.
MAX_WEBHOOK_DELIVERIES = 500


@dataclass(frozen=True)
class SentEmail:
    message_id: str
    source: str
    to: tuple[str, ...]
    subject: str
    body: str  # the plain-text part when there is one, else the HTML
    kind: str  # "simple" | "raw" | "template"
    html: str | None = None
    text: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    date: str | None = None  # the Date header, when the sender set one
    # Files sent with it (an invoice's PDF): (file name, content type, size in bytes).
    attachments: tuple[tuple[str, str, int], ...] = ()

    def header(self, name: str) -> str | None:
        return next((v for n, v in self.headers if n.lower() == name.lower()), None)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["to"] = list(self.to)
        data["headers"] = {name: value for name, value in self.headers}
        data["attachments"] = [
            {"filename": name, "contentType": kind, "bytes": size}
            for name, kind, size in self.attachments
        ]
        return data


@dataclass(frozen=True)
class SnsMessage:
    message_id: str
    topic_arn: str
    subject: str | None
    message: str
    attributes: dict[str, str]  # String message attributes: name -> value

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class WebhookDelivery:
    name: str  # the receiver: the <name> of /webhooks/<name>
    received_at: datetime
    content_type: str
    body: str
    status: int  # what the receiver answered

    @property
    def payload(self) -> Any:
        """The body as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "receivedAt": self.received_at.isoformat(),
            "contentType": self.content_type,
            "body": self.body,
            "payload": self.payload,
            "status": self.status,
        }


@dataclass
class WebhookInbox:
    """What the local webhook receiver took, oldest first; shared by the gateway's threads."""

    limit: int = MAX_WEBHOOK_DELIVERIES
    _deliveries: list[WebhookDelivery] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, delivery: WebhookDelivery) -> None:
        with self._lock:
            self._deliveries.append(delivery)
            del self._deliveries[: -self.limit]

    def deliveries(self) -> list[WebhookDelivery]:
        """Newest first."""
        with self._lock:
            return list(reversed(self._deliveries))


@dataclass(frozen=True)
class Outbox:
    emails: list[SentEmail]
    sns: list[SnsMessage]
    webhooks: list[WebhookDelivery]
    # Events and fan-out messages the alerts function failed on MAX_RECEIVES times.
    dead_letters: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "emails": [sent.as_json() for sent in self.emails],
            "sns": [message.as_json() for message in self.sns],
            "webhooks": [delivery.as_json() for delivery in self.webhooks],
            "deadLetters": self.dead_letters,
        }


def _recipients(destinations: Any) -> tuple[str, ...]:
    if isinstance(destinations, dict):
        found: list[str] = []
        for name in ("ToAddresses", "CcAddresses", "BccAddresses"):
            found.extend(destinations.get(name, []))
        return tuple(found)
    if isinstance(destinations, list | tuple):
        # send_raw_email lists To recipients twice when both Destinations and the header name them
        return tuple(dict.fromkeys(str(d) for d in destinations))
    return ()


def _part(message: Any, subtype: str) -> str | None:
    part = message.get_body(preferencelist=(subtype,))
    # SMTP's CRLF line ends, as a page and a JSON reader want them.
    return str(part.get_content()).replace("\r\n", "\n") if part is not None else None


def _raw_email(message: Any) -> SentEmail:
    parsed = email.message_from_string(message.raw_data, policy=email.policy.default)
    text, html_part = _part(parsed, "plain"), _part(parsed, "html")
    headers = tuple((name, str(value)) for name, value in parsed.items())
    attachments = tuple(
        (
            part.get_filename() or "(unnamed)",
            part.get_content_type(),
            len(part.get_payload(decode=True) or b""),
        )
        for part in (parsed.iter_attachments() if parsed.is_multipart() else ())
    )
    return SentEmail(
        message.id,
        message.source,
        _recipients(message.destinations),
        str(parsed.get("Subject", "")),
        text if text is not None else html_part or "",
        "raw",
        html=html_part,
        text=text,
        headers=headers,
        date=str(parsed["Date"]) if parsed["Date"] else None,
        attachments=attachments,
    )


def _looks_html(body: str) -> bool:
    return "<" in body and ">" in body


def _to_sent_email(message: Any) -> SentEmail | None:
    kind = type(message).__name__
    if kind == "Message":
        # SES's simple send keeps one body in moto: the HTML one when both were given.
        body = str(message.body)
        is_html = _looks_html(body)
        return SentEmail(
            message.id,
            message.source,
            _recipients(message.destinations),
            message.subject,
            body,
            "simple",
            html=body if is_html else None,
            text=None if is_html else body,
        )
    if kind == "RawMessage":
        return _raw_email(message)
    if kind == "TemplateMessage":
        body = f"template {message.template} with {message.template_data}"
        return SentEmail(
            message.id,
            message.source,
            _recipients(message.destinations),
            f"(template {message.template})",
            body,
            "template",
            text=body,
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


def _string_attributes(attributes: dict[str, Any] | None) -> dict[str, str]:
    found = {}
    for name, value in (attributes or {}).items():
        if isinstance(value, dict):
            found[name] = str(value.get("Value", value.get("StringValue", "")))
        else:
            found[name] = str(value)
    return found


def published_messages(topic_arns: Collection[str] | None = None) -> list[SnsMessage]:
    """What was published to moto's SNS topics in this process (only ``topic_arns`` when
    given), newest first within each topic, topics in creation order."""
    found: list[SnsMessage] = []
    for regions in list(sns_backends.values()):
        for backend in list(regions.values()):
            for arn, topic in list(backend.topics.items()):
                if topic_arns is not None and arn not in topic_arns:
                    continue
                for message_id, message, subject, attributes, _group in reversed(
                    list(topic.sent_notifications)
                ):
                    found.append(
                        SnsMessage(
                            message_id, arn, subject, message, _string_attributes(attributes)
                        )
                    )
    return found


def collect_outbox(
    webhooks: WebhookInbox | None = None,
    *,
    topic_arns: Collection[str] | None = None,
    dead_letters: int = 0,
) -> Outbox:
    return Outbox(
        emails=sent_emails(),
        sns=published_messages(topic_arns),
        webhooks=webhooks.deliveries() if webhooks is not None else [],
        dead_letters=dead_letters,
    )


# -- the page ------------------------------------------------------------------------------

_STYLE = """
:root{color-scheme:light dark;--line:#d0d4da;--muted:#5b6472;--tag:#eef1f5;--card:#fff;
--page:#f6f7f9;--ink:#1c2430}
@media (prefers-color-scheme:dark){:root{--line:#3a414c;--muted:#a3acb9;--tag:#2a3039;
--card:#1d2127;--page:#14171b;--ink:#e6e9ee}}
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;background:var(--page);
color:var(--ink)}
header{padding:1.25rem 1.5rem .5rem;max-width:72rem;margin:auto}
header h1{margin:0 0 .25rem;font-size:1.5rem}
header p{margin:.25rem 0;color:var(--muted)}
nav{display:flex;gap:.5rem;flex-wrap:wrap;margin:.75rem 0 0}
nav a{padding:.3rem .7rem;border:1px solid var(--line);border-radius:999px;color:inherit;
text-decoration:none;background:var(--card)}
main{max-width:72rem;margin:auto;padding:0 1.5rem 3rem}
section>h2{font-size:1.15rem;margin:1.75rem 0 .5rem}
article{background:var(--card);border:1px solid var(--line);border-radius:8px;
padding:1rem 1.25rem;margin:0 0 1rem}
article h3{margin:0 0 .5rem;font-size:1.05rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.15rem 1rem;margin:0 0 .75rem}
dt{color:var(--muted)}dd{margin:0;overflow-wrap:anywhere}
.tag{display:inline-block;background:var(--tag);border-radius:4px;padding:0 .4rem;
font-size:.85em;margin-right:.3rem}
iframe{width:100%;height:34rem;border:1px solid var(--line);border-radius:6px;background:#fff}
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:var(--tag);border-radius:6px;
padding:.75rem;margin:.5rem 0 0;font-size:.9em}
details{margin-top:.6rem}summary{cursor:pointer;color:var(--muted)}
.empty{color:var(--muted)}
table{border-collapse:collapse;width:100%;background:var(--card);border:1px solid var(--line);
border-radius:8px;margin:0 0 1rem;font-size:.93em}
th,td{text-align:left;padding:.35rem .75rem;border-bottom:1px solid var(--line);
overflow-wrap:anywhere}
th{color:var(--muted);font-weight:600}
.warning{border:1px solid #b4232c;background:#fdecee;color:#7a1117;border-radius:8px;
padding:.6rem 1rem;margin:.75rem 0 0}
@media (prefers-color-scheme:dark){.warning{background:#3a1418;color:#f5c2c6}}
@media (max-width:40rem){header,main{padding-left:.75rem;padding-right:.75rem}
article{padding:.75rem}.to{display:none}}
"""


def _dl(rows: Iterable[tuple[str, str | None]], *, links: Collection[str] = ()) -> str:
    """A definition list; the ``links`` rows' ``<http...>`` values become links (the
    unsubscribe URL, to try the one-click page locally)."""
    cells = []
    for name, value in rows:
        if not value:
            continue
        shown = html.escape(value)
        url = value.strip().removeprefix("<").removesuffix(">")
        if name in links and url.startswith(("http://", "https://")):
            shown = f"<a href='{html.escape(url, quote=True)}' rel='noreferrer'>{shown}</a>"
        cells.append(f"<dt>{html.escape(name)}</dt><dd>{shown}</dd>")
    return f"<dl>{''.join(cells)}</dl>"


def _email_article(e: SentEmail) -> str:
    rows = [
        ("To", ", ".join(e.to)),
        ("From", e.source),
        ("Date", e.date or "(no Date header: SES adds one when it sends)"),
        ("List-Unsubscribe", e.header("List-Unsubscribe")),
        ("List-Unsubscribe-Post", e.header("List-Unsubscribe-Post")),
        (
            "Attachments",
            ", ".join(f"{name} ({kind}, {size:,} bytes)" for name, kind, size in e.attachments)
            or None,
        ),
    ]
    parts = []
    if e.html is not None:
        # sandbox="" : no scripts, no forms, no navigation of this page, its own origin.
        parts.append(
            f'<iframe title="HTML part of {html.escape(e.subject, quote=True)}" sandbox="" '
            f'srcdoc="{html.escape(e.html, quote=True)}"></iframe>'
        )
    if e.text is not None:
        parts.append(
            f"<details{' open' if e.html is None else ''}><summary>Text part</summary>"
            f"<pre>{html.escape(e.text)}</pre></details>"
        )
    if e.html is not None:
        parts.append(
            f"<details><summary>HTML source</summary><pre>{html.escape(e.html)}</pre></details>"
        )
    if e.headers:
        parts.append(
            "<details><summary>All headers</summary><pre>"
            + html.escape("\n".join(f"{n}: {v}" for n, v in e.headers))
            + "</pre></details>"
        )
    return (
        f'<article id="email-{html.escape(e.message_id, quote=True)}">'
        f"<h3>{html.escape(e.subject) or '(no subject)'}</h3>"
        f"{_dl(rows, links=('List-Unsubscribe',))}{''.join(parts)}"
        f"<small class='tag'>{html.escape(e.kind)}</small>"
        f"<small class='tag'>{html.escape(e.message_id)}</small></article>"
    )


def _sns_article(message: SnsMessage) -> str:
    tags = "".join(
        f"<span class='tag'>{html.escape(name)}={html.escape(value)}</span>"
        for name, value in sorted(message.attributes.items())
    )
    try:
        shown = json.dumps(json.loads(message.message), indent=2)
    except ValueError:
        shown = message.message
    topic = message.topic_arn.rsplit(":", 1)[-1]
    return (
        "<article>"
        f"<h3>{html.escape(message.subject or '(no subject)')}</h3>"
        f"{_dl([('Topic', topic), ('Message id', message.message_id)])}"
        f"<div>{tags or '<span class=empty>no message attributes</span>'}</div>"
        f"<pre>{html.escape(shown)}</pre></article>"
    )


def _webhook_article(delivery: WebhookDelivery) -> str:
    payload = delivery.payload
    shown = json.dumps(payload, indent=2) if payload is not None else delivery.body
    rows = [
        ("Received", delivery.received_at.isoformat(timespec="seconds")),
        ("Content-Type", delivery.content_type),
        ("Answered", str(delivery.status)),
    ]
    return (
        f"<article><h3>/webhooks/{html.escape(delivery.name)}</h3>{_dl(rows)}"
        f"<pre>{html.escape(shown)}</pre></article>"
    )


def _email_index(emails: list[SentEmail]) -> str:
    """One line per email, linking to its card: the inbox view."""
    if not emails:
        return ""
    rows = "".join(
        f"<tr><td><a href='#email-{html.escape(e.message_id, quote=True)}'>"
        f"{html.escape(e.subject) or '(no subject)'}</a></td>"
        f"<td class='to'>{html.escape(', '.join(e.to))}</td></tr>"
        for e in emails
    )
    return (
        "<table><thead><tr><th scope='col'>Subject</th><th scope='col' class='to'>To</th>"
        f"</tr></thead><tbody>{rows}</tbody></table>"
    )


def _section(anchor: str, title: str, items: list[str], empty: str, lead: str = "") -> str:
    content = "".join(items) or f"<p class='empty'>{html.escape(empty)}</p>"
    return (
        f"<section id='{anchor}'><h2>{html.escape(title)} ({len(items)})</h2>"
        f"{lead}{content}</section>"
    )


def render_outbox(outbox: Outbox, *, receiver_url: str | None = None) -> str:
    """An HTML page; everything sent is escaped, and HTML parts are shown in sandboxed frames."""
    receiver = (
        f" A local webhook URL for your preferences: <code>{html.escape(receiver_url)}</code>."
        if receiver_url
        else ""
    )
    warning = (
        f"<p class='warning' role='alert'>{outbox.dead_letters} alerts event(s) or message(s) "
        "failed every delivery and wait in a dead-letter queue: see the stack's log.</p>"
        if outbox.dead_letters
        else ""
    )
    sections = [
        _section(
            "emails",
            "Emails",
            [_email_article(e) for e in outbox.emails],
            "No email has been sent yet.",
            _email_index(outbox.emails),
        ),
        _section(
            "sns",
            "SNS messages",
            [_sns_article(m) for m in outbox.sns],
            "Nothing has been published to the admin topic yet.",
        ),
        _section(
            "webhooks",
            "Webhook deliveries",
            [_webhook_article(d) for d in outbox.webhooks],
            "The local webhook receiver has taken nothing yet.",
        ),
    ]
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>Tally local outbox</title><style>{_STYLE}</style></head><body>"
        "<header><h1>Outbox</h1>"
        "<p>What the local stack sent, newest first: emails through SES, messages on the admin "
        "SNS topic, and deliveries to the local webhook receiver "
        f"(also as <a href='/outbox.json'>JSON</a>).{receiver}</p>"
        "<nav aria-label='Sections'>"
        f"<a href='#emails'>Emails ({len(outbox.emails)})</a>"
        f"<a href='#sns'>SNS ({len(outbox.sns)})</a>"
        f"<a href='#webhooks'>Webhooks ({len(outbox.webhooks)})</a></nav>{warning}</header>"
        f"<main>{''.join(sections)}</main></body></html>"
    )
