"""Chat webhooks: which URLs are refused (fake resolvers, so no test needs DNS), and delivery to
servers on 127.0.0.1: plain http (allow_loopback), and https with a private CA, where the
poster connects to the address it checked while TLS still names the host."""

from __future__ import annotations

import datetime as dt
import json
import re
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tally.notify.memory import static_resolver
from tally.notify.ports import ChatMessage, SendFailed, WebhookRefused
from tally.notify.webhooks import (
    HttpWebhookPoster,
    flavour_of,
    hint_of,
    payload_for,
    validate_webhook_url,
)

SLACK = "https://hooks.slack.com/services/T000/B000/abcdefx9Qa"
PUBLIC = static_resolver(
    {
        "hooks.slack.com": ["34.200.1.2", "2600:1f18::1"],
        "example.com": ["93.184.215.14"],
        "xn--bcher-kva.example.com": ["93.184.215.14"],
        "localhost": ["127.0.0.1", "::1"],
        "inside.example.com": ["10.0.0.5"],
        "mixed.example.com": ["93.184.215.14", "192.168.1.20"],
        "rebound.example.com": ["127.0.0.2"],
        "metadata.example.com": ["169.254.169.254"],
        "v6-loopback.example.com": ["::1"],
        "ula.example.com": ["fd12:3456::1"],
        "mapped.example.com": ["::ffff:10.0.0.1"],
        "cgnat.example.com": ["100.64.3.4"],
        "nat64.example.com": ["64:ff9b::a00:1"],
        "nat64-public.example.com": ["64:ff9b::808:808"],
        "scoped.example.com": ["fe80::1%eth0"],
    }
)
MESSAGE = ChatMessage(
    title="Alice is over her November budget",
    text="Spent $1,210.00 of $1,000.00 <121%> & rising",
    link="https://tally.example.com/#/budgets",
    level="exceeded",
)


# -- which URLs are allowed ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "normalised"),
    [
        (SLACK, SLACK),
        (
            "  HTTPS://Hooks.Slack.COM:443/services/T000/B000/abcdefx9Qa#ignored ",
            SLACK,
        ),
        ("https://example.com:8443/hook?sig=abc", "https://example.com:8443/hook?sig=abc"),
        ("https://example.com", "https://example.com/"),
        ("https://hooks.slack.com./services/x", "https://hooks.slack.com/services/x"),
        ("https://nat64-public.example.com/h", "https://nat64-public.example.com/h"),
        ("https://[2606:4700::1111]/h", "https://[2606:4700::1111]/h"),
        ("https://bücher.example.com/h", "https://xn--bcher-kva.example.com/h"),
    ],
)
def test_public_https_urls_are_accepted_and_normalised(url: str, normalised: str) -> None:
    assert validate_webhook_url(url, resolve=PUBLIC) == normalised


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://hooks.slack.com/services/x", "must use https"),
        ("ftp://hooks.slack.com/x", "must start with https://"),
        ("javascript:alert(1)", "must start with https://"),
        ("hooks.slack.com/services/x", "must start with https://"),
        ("", "empty"),
        ("https://user:secret@hooks.slack.com/x", "user name or password"),
        ("https://hooks.slack.com@10.0.0.1/x", "user name or password"),
        ("https:///services/x", "no host"),
        ("https://example.com:99999/x", "port"),
        ("https://example.com:0/x", "port"),
        ("https://exa mple.com/x", "spaces or control characters"),
        ("https://example.com/x\r\nHost: evil", "spaces or control characters"),
        ("https://" + "a" * 64 + ".com/x", "host name is not valid"),
        ("https://%31%30.0.0.1/x", "host name is not valid"),
        ("https://-bad.example.com/x", "host name is not valid"),
        ("https://a..example.com/x", "host name is not valid"),
        ("https://example.com/" + "x" * 2100, "longer than 2048"),
        ("https://unknown.example.com/x", "does not resolve"),
        ("https://inside.example.com/x", "10.0.0.5, a private address"),
        ("https://mixed.example.com/x", "192.168.1.20, a private address"),
        ("https://192.168.1.1/x", "a private address"),
        ("https://172.16.0.1/x", "a private address"),
        ("https://127.0.0.1/x", "a loopback address"),
        ("https://rebound.example.com/x", "127.0.0.2, a loopback address"),
        ("https://169.254.169.254/latest/meta-data/", "link-local"),
        ("https://metadata.example.com/x", "instance metadata"),
        ("https://[::1]/x", "a loopback address"),
        ("https://v6-loopback.example.com/x", "::1, a loopback address"),
        ("https://[fc00::1]/x", "a private address"),
        ("https://ula.example.com/x", "a private address"),
        ("https://[fe80::1]/x", "link-local"),
        ("https://scoped.example.com/x", "link-local"),
        ("https://[::ffff:10.0.0.1]/x", "(IPv4 10.0.0.1) a private address"),
        ("https://mapped.example.com/x", "(IPv4 10.0.0.1) a private address"),
        ("https://[::ffff:169.254.169.254]/x", "link-local"),
        ("https://nat64.example.com/x", "(IPv4 10.0.0.1) a private address"),
        ("https://[2002:a00:1::1]/x", "(IPv4 10.0.0.1) a private address"),
        ("https://cgnat.example.com/x", "carrier-grade NAT"),
        ("https://224.0.0.1/x", "multicast"),
        ("https://[ff02::1]/x", "multicast"),
        ("https://0.0.0.0/x", "unspecified"),
        ("https://[::]/x", "unspecified"),
        ("https://240.0.0.1/x", "reserved"),
        ("https://[2001:db8::1]/x", "only public addresses"),
    ],
)
def test_refused_urls_say_why(url: str, message: str) -> None:
    with pytest.raises(WebhookRefused, match=re.escape(message)) as refused:
        validate_webhook_url(url, resolve=PUBLIC)
    assert refused.value.field == "webhookUrl"


@pytest.mark.parametrize("url", ["https://2130706433/x", "https://0x7f.1/x", "https://127.1/x"])
def test_numeric_spellings_of_loopback_are_refused_after_real_resolution(url: str) -> None:
    # getaddrinfo parses these itself (inet_aton): no DNS query leaves the machine.
    with pytest.raises(WebhookRefused, match="loopback"):
        validate_webhook_url(url)


@pytest.mark.parametrize(
    ("url", "normalised"),
    [
        ("http://127.0.0.1:8099/hook", "http://127.0.0.1:8099/hook"),
        ("http://localhost:8099/hook", "http://localhost:8099/hook"),
        ("http://[::1]:8099/hook", "http://[::1]:8099/hook"),
        ("https://rebound.example.com/x", "https://rebound.example.com/x"),
    ],
)
def test_the_local_stack_may_use_loopback(url: str, normalised: str) -> None:
    assert validate_webhook_url(url, allow_loopback=True, resolve=PUBLIC) == normalised
    with pytest.raises(WebhookRefused):
        validate_webhook_url(url, resolve=PUBLIC)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://example.com/hook", "must use https"),
        ("http://10.0.0.1/hook", "must use https"),
        ("https://inside.example.com/hook", "a private address"),
        ("https://169.254.169.254/hook", "link-local"),
    ],
)
def test_allow_loopback_allows_nothing_else(url: str, message: str) -> None:
    with pytest.raises(WebhookRefused, match=message):
        validate_webhook_url(url, allow_loopback=True, resolve=PUBLIC)


# -- flavour, hint, payloads ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "flavour"),
    [
        (SLACK, "slack"),
        ("https://contoso.webhook.office.com/webhookb2/abc/IncomingWebhook/def", "teams"),
        ("https://outlook.office.com/webhook/abc", "teams"),
        ("https://prod-12.westus.logic.azure.com:443/workflows/abc/triggers/manual", "teams"),
        ("https://hooks.slack.com.evil.example/services/x", "generic"),
        ("https://mattermost.example.com/hooks/abc", "generic"),
    ],
)
def test_the_flavour_follows_the_host(url: str, flavour: str) -> None:
    assert flavour_of(url) == flavour


def test_the_hint_never_shows_the_secret_path_or_query() -> None:
    assert hint_of(SLACK) == "https://hooks.slack.com/…/x9Qa"
    assert hint_of("https://example.com:8443/a/b/secretpart?sig=zzz") == (
        "https://example.com:8443/…/part"
    )
    assert hint_of("https://example.com/") == "https://example.com/…"


def test_slack_gets_blocks_with_its_control_characters_escaped() -> None:
    body = payload_for("slack", MESSAGE)
    assert body["text"].startswith("Alice is over her November budget: Spent")
    header, section, actions = body["blocks"]
    assert header["text"] == {"type": "plain_text", "text": MESSAGE.title}
    assert section["text"]["text"] == "Spent $1,210.00 of $1,000.00 &lt;121%&gt; &amp; rising"
    assert actions["elements"][0]["url"] == MESSAGE.link


def test_teams_gets_an_adaptive_card_message() -> None:
    body = payload_for("teams", MESSAGE)
    [attachment] = body["attachments"]
    assert body["type"] == "message"
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard"
    assert [b["text"] for b in card["body"]] == [MESSAGE.title, MESSAGE.text]
    assert card["body"][0]["color"] == "attention"
    assert card["actions"] == [
        {"type": "Action.OpenUrl", "title": "Open Tally", "url": MESSAGE.link}
    ]


def test_anything_else_gets_slack_compatible_text() -> None:
    assert payload_for("generic", MESSAGE) == {
        "text": f"{MESSAGE.title}\n{MESSAGE.text}\n{MESSAGE.link}"
    }
    no_link = ChatMessage("Test", "It works", None, "test")
    assert payload_for("generic", no_link) == {"text": "Test\nIt works"}
    assert "actions" not in payload_for("teams", no_link)["attachments"][0]["content"]


# -- delivery -------------------------------------------------------------------------------


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A webhook receiver on 127.0.0.1: the path picks the answer."""

    port: int
    requests: list[Received] = field(default_factory=list)
    sni: list[str | None] = field(default_factory=list)


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            receiver.requests.append(
                Received(self.path, dict(self.headers.items()), self.rfile.read(length))
            )
            if self.path.startswith("/slow"):
                time.sleep(1.5)
            status, extra, body = {
                "/moved": (302, {"Location": "http://169.254.169.254/latest/meta-data/"}, b""),
                "/broken": (500, {}, b"oops"),
                "/busy": (429, {}, b"rate_limited"),
                "/gone": (404, {}, b"no_service"),
            }.get(self.path.split("?")[0], (200, {}, b"ok"))
            self.send_response(status)
            for name, value in extra.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    return Handler


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    yield from _serve(None)


def _serve(tls: ssl.SSLContext | None) -> Iterator[Receiver]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    server.daemon_threads = True
    found = Receiver(server.server_address[1])
    server.RequestHandlerClass = _handler(found)
    if tls is not None:
        tls.sni_callback = lambda _sock, name, _ctx: found.sni.append(name)  # type: ignore[assignment,misc]
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield found
    finally:
        server.shutdown()
        server.server_close()


def test_a_loopback_receiver_gets_the_generic_payload(receiver: Receiver) -> None:
    poster = HttpWebhookPoster(allow_loopback=True)

    poster.post(f"http://127.0.0.1:{receiver.port}/hook?k=1", MESSAGE)

    [request] = receiver.requests
    assert request.path == "/hook?k=1"
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"
    assert json.loads(request.body) == payload_for("generic", MESSAGE)


def test_a_redirect_is_refused_and_not_followed(receiver: Receiver) -> None:
    poster = HttpWebhookPoster(allow_loopback=True)
    with pytest.raises(WebhookRefused, match="redirects are not followed"):
        poster.post(f"http://127.0.0.1:{receiver.port}/moved", MESSAGE)
    assert [r.path for r in receiver.requests] == ["/moved"]


@pytest.mark.parametrize(
    ("path", "retryable", "reason"),
    [
        ("/broken", True, "answered 500: oops"),
        ("/busy", True, "answered 429: rate_limited"),
        ("/gone", False, "answered 404: no_service"),
    ],
)
def test_a_failed_delivery_says_whether_to_retry(
    receiver: Receiver, path: str, retryable: bool, reason: str
) -> None:
    poster = HttpWebhookPoster(allow_loopback=True)
    with pytest.raises(SendFailed, match=reason) as failure:
        poster.post(f"http://127.0.0.1:{receiver.port}{path}", MESSAGE)
    assert failure.value.retryable is retryable


def test_a_slow_receiver_times_out_retryably(receiver: Receiver) -> None:
    poster = HttpWebhookPoster(allow_loopback=True, timeout=0.3)
    with pytest.raises(SendFailed, match=r"did not answer within 0\.3 seconds") as failure:
        poster.post(f"http://127.0.0.1:{receiver.port}/slow", MESSAGE)
    assert failure.value.retryable is True


def test_nothing_listening_is_retryable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(SendFailed, match="could not be reached") as failure:
        HttpWebhookPoster(allow_loopback=True).post(f"http://127.0.0.1:{port}/", MESSAGE)
    assert failure.value.retryable is True


def test_the_url_is_checked_again_at_send_time(receiver: Receiver) -> None:
    # A URL stored while its host was public, whose host now resolves inside the network.
    poster = HttpWebhookPoster(resolve=static_resolver({"hooks.example.com": ["10.1.2.3"]}))
    with pytest.raises(WebhookRefused, match=r"10\.1\.2\.3, a private address"):
        poster.post("https://hooks.example.com/x", MESSAGE)
    with pytest.raises(WebhookRefused, match="loopback"):
        HttpWebhookPoster().post(f"https://127.0.0.1:{receiver.port}/hook", MESSAGE)
    with pytest.raises(WebhookRefused, match="must use https"):
        HttpWebhookPoster().post(f"http://127.0.0.1:{receiver.port}/hook", MESSAGE)
    assert receiver.requests == []


def test_a_host_that_stopped_resolving_is_retried_later() -> None:
    poster = HttpWebhookPoster(resolve=static_resolver({}))
    with pytest.raises(SendFailed, match="does not resolve") as failure:
        poster.post(SLACK, MESSAGE)
    assert failure.value.retryable is True


# -- https: pinned address, SNI and certificate for the host name -----------------------------


@dataclass(frozen=True)
class Pki:
    client: ssl.SSLContext  # trusts the test CA only
    server_for: dict[str, ssl.SSLContext]  # host name on the certificate -> server context


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    folder: Path = tmp_path_factory.mktemp("pki")
    # Fixed, wide validity: OpenSSL checks it against the real clock, the test reads none.
    start, end = dt.datetime(2020, 1, 1, tzinfo=dt.UTC), dt.datetime(2099, 1, 1, tzinfo=dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Tally test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(1)
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    (folder / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    client = ssl.create_default_context(cafile=str(folder / "ca.pem"))
    servers = {}
    for serial, name in enumerate(["hooks.slack.com", "other.example.com"], start=2):
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(serial)
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
            )
            .sign(ca_key, hashes.SHA256())
        )
        pem = folder / f"{name}.pem"
        pem.write_bytes(
            cert.public_bytes(serialization.Encoding.PEM)
            + key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server.load_cert_chain(str(pem))
        servers[name] = server
    return Pki(client, servers)


def test_https_goes_to_the_checked_address_and_names_the_host(pki: Pki) -> None:
    answers: list[str] = []

    def rebinding(host: str, port: int, *args: Any, **kwargs: Any) -> Any:
        # The first answer is the one checked; any later lookup would get a private address.
        answer = "127.0.0.1" if not answers else "10.0.0.1"
        answers.append(answer)
        return static_resolver({host: [answer]})(host, port)

    for receiver in _serve(pki.server_for["hooks.slack.com"]):
        poster = HttpWebhookPoster(allow_loopback=True, resolve=rebinding, ssl_context=pki.client)

        poster.post(f"https://hooks.slack.com:{receiver.port}/services/T0/B0/x9Qa", MESSAGE)

        assert answers == ["127.0.0.1"]  # resolved once: the connection used that answer
        [request] = receiver.requests
        assert receiver.sni == ["hooks.slack.com"]
        assert request.headers["Host"] == f"hooks.slack.com:{receiver.port}"
        assert json.loads(request.body) == payload_for("slack", MESSAGE)


def test_a_certificate_for_another_name_is_a_permanent_failure(pki: Pki) -> None:
    for receiver in _serve(pki.server_for["other.example.com"]):
        poster = HttpWebhookPoster(
            allow_loopback=True,
            resolve=static_resolver({"hooks.slack.com": ["127.0.0.1"]}),
            ssl_context=pki.client,
        )
        with pytest.raises(SendFailed, match="certificate is not valid") as failure:
            poster.post(f"https://hooks.slack.com:{receiver.port}/services/x", MESSAGE)
        assert failure.value.retryable is False
        assert receiver.requests == []
