"""botocore errors as ``SendFailed``: the one rule every AWS channel applies."""

from __future__ import annotations

from tally.notify.ports import SendFailed

# Worth trying again next run: the request was fine, the service was busy or failing.
_RETRYABLE_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "Throttled",  # SNS
        "TooManyRequestsException",
        "LimitExceededException",
        "SendingPausedException",  # SES: sending paused for the account or configuration set
        "KMSThrottling",  # SNS on an encrypted topic
        "KMSThrottlingException",
        "ServiceUnavailable",
        "InternalFailure",
        "InternalError",
        "RequestTimeout",
    }
)


def send_failure(error: Exception) -> SendFailed:
    """Throttling, 5xx and network errors are retryable; a rejected message, an unverified
    sender, a missing topic or a suspended account are not (retrying cannot fix them)."""
    from botocore.exceptions import BotoCoreError, ClientError

    if isinstance(error, ClientError):
        detail = error.response.get("Error", {})
        code = str(detail.get("Code", ""))
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        message = str(detail.get("Message", "")) or code
        retryable = code in _RETRYABLE_CODES or status >= 500 or status == 429
        return SendFailed(f"{code}: {message}", retryable=retryable)
    if isinstance(error, BotoCoreError):  # connection refused, read timeout, ...
        return SendFailed(f"{type(error).__name__}: {error}", retryable=True)
    raise TypeError(f"not a botocore error: {error!r}")
