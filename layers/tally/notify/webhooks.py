"""Chat webhooks (Slack, Teams, anything Slack-compatible): which URLs are allowed, and posting.

A webhook URL is a user-supplied address the alerts function will call, so it is treated as a
server-side request forgery risk: only https, no credentials in the URL, and every address the
host resolves to must be public. The poster resolves once per delivery, checks every address,
and connects to an address it checked (TLS still names and verifies the host name), so a DNS
answer that changes between the check and the connection (DNS rebinding) cannot send the
request inside the network. Redirects are never followed.

Nothing here imports boto3: the API validates URLs on its request path.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import re
import socket
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from tally.notify.ports import ChatMessage, SendFailed, WebhookRefused

Flavour = Literal["slack", "teams", "generic"]
Resolver = Callable[..., Sequence[tuple[Any, ...]]]
"""Called like ``socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)``."""

MAX_URL_LENGTH = 2048
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
_HOST_NAME = re.compile(
    r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*"
)
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_RESPONSE_SNIPPET = 300  # bytes of an error response kept for the reason


class _Unresolvable(WebhookRefused):
    """The host name does not resolve: a refusal when a URL is set, but at delivery time
    possibly a passing DNS failure, so the poster retries it."""


@dataclass(frozen=True)
class _Target:
    url: str  # normalised
    scheme: str
    host: str  # ASCII (IDNA), no brackets, no trailing dot
    port: int
    request_path: str  # path and query
    addresses: tuple[str, ...]  # every address the host resolved to, all checked


def validate_webhook_url(
    url: str, *, allow_loopback: bool = False, resolve: Resolver = socket.getaddrinfo
) -> str:
    """The normalised URL (lower-case scheme and host, no default port, no fragment), or
    ``WebhookRefused`` saying why. ``allow_loopback`` (the local stack only) also accepts
    loopback addresses, and plain http to 127.0.0.1, ::1 or localhost."""
    return _target(url, allow_loopback=allow_loopback, resolve=resolve).url


def _target(url: str, *, allow_loopback: bool, resolve: Resolver) -> _Target:
    if not isinstance(url, str) or not url.strip():
        raise WebhookRefused("the webhook URL is empty")
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise WebhookRefused(f"the webhook URL is longer than {MAX_URL_LENGTH} characters")
    if any(c.isspace() or not c.isprintable() for c in url):
        raise WebhookRefused("the webhook URL contains spaces or control characters")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise WebhookRefused("the webhook URL must start with https://")
    if "@" in parts.netloc:
        raise WebhookRefused("the webhook URL may not contain a user name or password")
    if not parts.hostname:
        raise WebhookRefused("the webhook URL has no host")
    try:
        port = parts.port if parts.port is not None else (443 if scheme == "https" else 80)
    except ValueError:
        raise WebhookRefused("the webhook URL's port is not a number from 1 to 65535") from None
    if port == 0:
        raise WebhookRefused("the webhook URL's port is not a number from 1 to 65535")
    host = _ascii_host(parts.hostname)
    if scheme == "http" and not (allow_loopback and host in _LOOPBACK_HOSTS):
        raise WebhookRefused("the webhook URL must use https")
    addresses = _checked_addresses(host, port, allow_loopback=allow_loopback, resolve=resolve)
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None and port != (443 if scheme == "https" else 80):
        netloc += f":{port}"
    path = parts.path or "/"
    normalised = urlunsplit((scheme, netloc, path, parts.query, ""))
    request_path = path + (f"?{parts.query}" if parts.query else "")
    return _Target(normalised, scheme, host, port, request_path, addresses)


def _ascii_host(hostname: str) -> str:
    host = hostname.lower().rstrip(".")
    if not host:
        raise WebhookRefused("the webhook URL has no host")
    try:
        return str(ipaddress.ip_address(host))  # one spelling of an address
    except ValueError:
        pass
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise WebhookRefused("the webhook URL's host name is not valid") from None
    # Letters, digits, hyphens (and the underscores some hosts carry), in labels of at most 63:
    # no percent-encoding or other spelling the resolver and the connection might read apart.
    if not _HOST_NAME.fullmatch(ascii_host) or len(ascii_host) > 253:
        raise WebhookRefused("the webhook URL's host name is not valid")
    return ascii_host


def _checked_addresses(
    host: str, port: int, *, allow_loopback: bool, resolve: Resolver
) -> tuple[str, ...]:
    try:
        addresses: tuple[str, ...] = (str(ipaddress.ip_address(host)),)
    except ValueError:
        addresses = _resolved(host, port, resolve)
    for address in addresses:
        problem = _address_problem(ipaddress.ip_address(address), allow_loopback=allow_loopback)
        if problem:
            where = f"is {problem}" if address == host else f"resolves to {address}, {problem}"
            raise WebhookRefused(
                f"the webhook host {host} {where}: only public addresses are allowed"
            )
    return addresses


def _resolved(host: str, port: int, resolve: Resolver) -> tuple[str, ...]:
    try:
        answers = resolve(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise _Unresolvable(f"the webhook host {host} does not resolve") from None
    # An IPv6 answer may carry a scope ("fe80::1%eth0"); the address is what is checked.
    addresses = tuple(dict.fromkeys(str(a[4][0]).split("%")[0] for a in answers))
    if not addresses:
        raise _Unresolvable(f"the webhook host {host} does not resolve")
    return addresses


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _address_problem(address: IPAddress, *, allow_loopback: bool) -> str | None:
    """Why ``address`` may not be called, or None when it is public."""
    if isinstance(address, ipaddress.IPv6Address):
        # An IPv6 form of an IPv4 address reaches that IPv4 address: judge that one.
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is None and address.teredo is not None:
            embedded = address.teredo[1]
        if embedded is not None:
            problem = _address_problem(embedded, allow_loopback=allow_loopback)
            return f"(IPv4 {embedded}) {problem}" if problem else None
    if address.is_loopback:
        return None if allow_loopback else "a loopback address"
    if address.is_link_local:
        return "a link-local address (such as the instance metadata service)"
    if address in _CGNAT:
        return "a carrier-grade NAT address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_reserved:
        return "a reserved address"
    if address.is_private:
        return "a private address"
    if not address.is_global:
        return "not a public address"
    return None


def flavour_of(url: str) -> Flavour:
    """The payload format the host expects, from the host name alone."""
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    if host == "hooks.slack.com":
        return "slack"
    if (
        host == "outlook.office.com"
        or host.endswith(".webhook.office.com")
        or host.endswith(".logic.azure.com")
        or host.endswith(".api.powerplatform.com")  # Teams Workflows
    ):
        return "teams"
    return "generic"


def hint_of(url: str) -> str:
    """What may be shown of a webhook URL: scheme, host and the path's last four characters,
    e.g. "https://hooks.slack.com/…/x9Qa". The rest of the path and the query are the secret."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    tail = parts.path.rstrip("/")[-4:]
    return f"{parts.scheme}://{host}/…/{tail}" if tail else f"{parts.scheme}://{host}/…"


def payload_for(flavour: Flavour, message: ChatMessage) -> dict[str, Any]:
    """The JSON body for ``flavour``: Slack Block Kit, a Teams Adaptive Card message, or a
    Slack-compatible ``{"text": ...}`` that Mattermost, Rocket.Chat and others accept."""
    if flavour == "slack":
        return _slack(message)
    if flavour == "teams":
        return _teams(message)
    lines = [message.title, message.text, message.link or ""]
    return {"text": "\n".join(line for line in lines if line)}


def _slack_escape(text: str) -> str:
    # Slack's mrkdwn treats these three as control characters.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack(message: ChatMessage) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": message.title[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": _slack_escape(message.text)[:3000]}},
    ]
    if message.link:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Open Tally"},
                        "url": message.link,
                    }
                ],
            }
        )
    # ``text`` is the notification's fallback (and what a screen reader announces).
    return {"text": f"{message.title}: {message.text}", "blocks": blocks}


_TEAMS_COLOUR = {"exceeded": "attention", "threshold": "warning", "forecast": "warning"}


def _teams(message: ChatMessage) -> dict[str, Any]:
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {
                "type": "TextBlock",
                "text": message.title,
                "weight": "bolder",
                "size": "medium",
                "wrap": True,
                "color": _TEAMS_COLOUR.get(message.level, "default"),
            },
            {"type": "TextBlock", "text": message.text, "wrap": True},
        ],
    }
    if message.link:
        card["actions"] = [{"type": "Action.OpenUrl", "title": "Open Tally", "url": message.link}]
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            }
        ],
    }


class HttpWebhookPoster:
    """Posts a ChatMessage to a webhook URL, validating it again at send time.

    ``ssl_context`` is for tests (a private CA); by default the system's trust store and
    hostname verification apply.
    """

    def __init__(
        self,
        *,
        timeout: float = 5,
        allow_loopback: bool = False,
        resolve: Resolver = socket.getaddrinfo,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.timeout = timeout
        self.allow_loopback = allow_loopback
        self._resolve = resolve
        self._ssl_context = ssl_context

    def post(self, url: str, message: ChatMessage) -> None:
        try:
            target = _target(url, allow_loopback=self.allow_loopback, resolve=self._resolve)
        except _Unresolvable as error:
            raise SendFailed(error.reason, retryable=True) from None
        body = json.dumps(payload_for(flavour_of(target.url), message)).encode()
        connection = self._connection(target)
        try:
            connection.request(
                "POST",
                target.request_path,
                body=body,
                headers={
                    "Content-Type": "application/json; charset=utf-8",
                    "User-Agent": "Tally-Alerts/1",
                },
            )
            response = connection.getresponse()
            status = response.status
            snippet = response.read(_RESPONSE_SNIPPET).decode("utf-8", "replace").strip()
        except ssl.SSLCertVerificationError as error:
            raise SendFailed(
                f"the webhook's TLS certificate is not valid: {error.verify_message}",
                retryable=False,
            ) from None
        except TimeoutError:
            raise SendFailed(
                f"the webhook did not answer within {self.timeout:g} seconds", retryable=True
            ) from None
        except (OSError, http.client.HTTPException) as error:
            raise SendFailed(f"the webhook could not be reached: {error}", retryable=True) from None
        finally:
            connection.close()
        _check_status(status, snippet)

    def _connection(self, target: _Target) -> http.client.HTTPConnection:
        connection: http.client.HTTPConnection
        if target.scheme == "https":
            context = self._ssl_context or ssl.create_default_context()
            connection = http.client.HTTPSConnection(
                target.host, target.port, timeout=self.timeout, context=context
            )
        else:
            connection = http.client.HTTPConnection(target.host, target.port, timeout=self.timeout)
        # http.client would resolve the host again; connect to an address that was checked
        # instead. The host name still goes into SNI, certificate verification and Host.
        addresses = target.addresses
        timeout = self.timeout

        def pinned(address: tuple[str, int], *_: Any, **__: Any) -> socket.socket:
            failure: OSError | None = None
            for ip in addresses:
                try:
                    return socket.create_connection((ip, address[1]), timeout)
                except OSError as error:
                    failure = error
            assert failure is not None
            raise failure

        connection._create_connection = pinned  # type: ignore[attr-defined]
        return connection


def _check_status(status: int, snippet: str) -> None:
    if 200 <= status < 300:
        return
    if 300 <= status < 400:
        raise WebhookRefused(f"the webhook answered {status}: redirects are not followed")
    reason = f"the webhook answered {status}" + (f": {snippet}" if snippet else "")
    raise SendFailed(reason, retryable=status >= 500 or status in (408, 429))
