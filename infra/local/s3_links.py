"""Pre-signed S3 links, locally: the gateway's ``GET /s3/<bucket>/<key>?X-Amz-...``.

The API signs download links for ``TALLY_S3_PUBLIC_ENDPOINT_URL`` (the gateway's origin +
``/s3``), and the browser follows them here. moto serves objects whatever a link's expiry
says; S3 refuses an expired link, so this does what S3 does before handing the object over:
the link must be a complete SigV4 query signature, unexpired (``X-Amz-Date`` +
``X-Amz-Expires``, on the real clock), made with the local stack's credentials (moto's fake
ones, known here) over exactly this path, these parameters and this host; only the reports
bucket is served. A refusal is S3's XML error with S3's status (403, 404).
The object is answered with the headers a link asks for (``response-content-disposition``,
``response-content-type``), as S3 does.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit
from xml.sax.saxutils import escape

from infra.local.aws import FAKE_ACCESS_KEY, FAKE_SECRET_KEY
from tally.clock import system_now

PREFIX = "/s3/"
ALGORITHM = "AWS4-HMAC-SHA256"
REQUIRED = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
)
MAX_EXPIRES = 7 * 24 * 3600  # SigV4's own limit
# S3 takes a link signed a little in the future (clock skew), not more.
MAX_SKEW = timedelta(minutes=15)
# What S3 lets a link override in the answer's headers.
OVERRIDES = {
    "response-content-type": "Content-Type",
    "response-content-disposition": "Content-Disposition",
    "response-cache-control": "Cache-Control",
}


@dataclass(frozen=True)
class S3Answer:
    status: int
    body: bytes
    headers: list[tuple[str, str]]


def s3_error(status: int, code: str, message: str) -> S3Answer:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
    ).encode()
    return S3Answer(status, body, [("Content-Type", "application/xml")])


def signature_matches(url: str, host: str, *, secret_key: str) -> bool:
    """Whether ``url``'s X-Amz-Signature is the SigV4 query signature of its path, its other
    parameters and ``host`` with ``secret_key`` (botocore computes it as S3 does)."""
    from botocore.auth import S3SigV4QueryAuth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    split = urlsplit(url)
    params = parse_qsl(split.query, keep_blank_values=True)
    given = dict(params)
    scope = given["X-Amz-Credential"].split("/")
    if len(scope) != 5:
        return False
    access_key, _, region, service, _ = scope
    unsigned = [(k, v) for k, v in params if k != "X-Amz-Signature"]
    auth = S3SigV4QueryAuth(
        Credentials(access_key, secret_key), service, region, expires=int(given["X-Amz-Expires"])
    )
    request = AWSRequest(
        method="GET",
        url=f"http://{host}{split.path}?{urlencode(unsigned, quote_via=quote)}",
        headers={"host": host},
    )
    request.context["timestamp"] = given["X-Amz-Date"]
    expected = auth.signature(
        auth.string_to_sign(request, auth.canonical_request(request)), request
    )
    return hmac.compare_digest(expected, given["X-Amz-Signature"])


class S3Links:
    """Answers the gateway's ``/s3/`` requests from ``bucket`` in moto (``client``: an S3
    client of the moto server); ``clock`` is the real one (a link's life is security time)."""

    def __init__(
        self,
        client: Any,
        bucket: str,
        *,
        access_key: str = FAKE_ACCESS_KEY,
        secret_key: str = FAKE_SECRET_KEY,
        clock: Callable[[], datetime] = system_now,
    ) -> None:
        self._client = client
        self.bucket = bucket
        self._access_key = access_key
        self._secret_key = secret_key
        self._clock = clock

    def answer(self, method: str, target: str, host: str) -> S3Answer:
        split = urlsplit(target)
        bucket, _, key = unquote(split.path[len(PREFIX) :]).partition("/")
        given = dict(parse_qsl(split.query, keep_blank_values=True))
        missing = [name for name in REQUIRED if not given.get(name)]
        if missing:
            return s3_error(
                403, "AccessDenied", f"a pre-signed link is needed: {', '.join(missing)} missing"
            )
        if given["X-Amz-Algorithm"] != ALGORITHM:
            return s3_error(400, "AuthorizationQueryParametersError", f"only {ALGORITHM}")
        try:
            signed_at = datetime.strptime(given["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            seconds = int(given["X-Amz-Expires"])
        except ValueError:
            return s3_error(400, "AuthorizationQueryParametersError", "X-Amz-Date or -Expires")
        if not 1 <= seconds <= MAX_EXPIRES:
            return s3_error(
                400, "AuthorizationQueryParametersError", "X-Amz-Expires must be 1 to 604800"
            )
        now = self._clock()
        if now > signed_at + timedelta(seconds=seconds):
            return s3_error(403, "AccessDenied", "Request has expired")
        if signed_at > now + MAX_SKEW:
            return s3_error(403, "AccessDenied", "Request is not valid yet")
        if given["X-Amz-Credential"].split("/")[0] != self._access_key or not signature_matches(
            target, host, secret_key=self._secret_key
        ):
            return s3_error(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided.",
            )
        if bucket != self.bucket or not key:
            return s3_error(403, "AccessDenied", "Access Denied")
        from botocore.exceptions import ClientError

        try:
            found = self._client.get_object(Bucket=bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return s3_error(404, "NoSuchKey", "The specified key does not exist.")
            raise
        body = b"" if method == "HEAD" else found["Body"].read()
        headers = {
            "Content-Type": found.get("ContentType") or "application/octet-stream",
            **(
                {"Content-Disposition": found["ContentDisposition"]}
                if found.get("ContentDisposition")
                else {}
            ),
            "Last-Modified": found["LastModified"].strftime("%a, %d %b %Y %H:%M:%S GMT"),
        }
        if found.get("ETag"):
            headers["ETag"] = found["ETag"]
        for param, header in OVERRIDES.items():
            if given.get(param):
                headers[header] = given[param]
        return S3Answer(200, body, list(headers.items()))
