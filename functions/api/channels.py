"""The notification channels the API itself uses (``tally.notify``): the box that seals
webhook URLs (KMS), the poster of the webhook test message, and the signer that checks
unsubscribe links. Built once per warm container on first use, never at import, and only by
the routes that need them: the rest of the API runs without their settings.

Tests replace these functions (monkeypatch) with the in-memory channels.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from api import context
from api.settings import UNSUBSCRIBE_SECRET_ID, WEBHOOK_KEY_ID, ApiSettings
from tally.settings import PAGE_KEYS_MAX_AGE, ConfigurationError

if TYPE_CHECKING:
    from tally.notify.ports import SecretBox, UnsubscribeSigner, WebhookPoster
    from tally.paging import PageKeys
    from tally.preferences import WebhookGuard


@lru_cache(maxsize=4)
def _kms_box(key_id: str) -> SecretBox:
    from tally.notify.secrets import KmsSecretBox

    return KmsSecretBox(context.aws_client("kms"), key_id)


def secret_box() -> SecretBox:
    key_id = ApiSettings.load().webhook_key_id
    if not key_id:
        raise ConfigurationError(f"environment variable {WEBHOOK_KEY_ID} is required for webhooks")
    return _kms_box(key_id)


def webhook_guard() -> WebhookGuard:
    """What setting a webhook URL needs: the box, and the loopback exception of the local
    stack."""
    from tally.preferences import WebhookGuard

    return WebhookGuard(
        secrets=secret_box(), allow_loopback=ApiSettings.load().webhook_allow_loopback
    )


@lru_cache(maxsize=2)
def _poster(allow_loopback: bool) -> WebhookPoster:
    from tally.notify.webhooks import HttpWebhookPoster

    # Well inside the API's own timeout: a slow webhook answers 422, not a gateway timeout.
    return HttpWebhookPoster(timeout=5, allow_loopback=allow_loopback)


def webhook_poster() -> WebhookPoster:
    return _poster(ApiSettings.load().webhook_allow_loopback)


def dashboard_url() -> str | None:
    """The dashboard's address for links (its origin, the one CORS lets in)."""
    origin = ApiSettings.load().dashboard_origin
    return f"{origin.rstrip('/')}/" if origin else None


@lru_cache(maxsize=1)
def _secrets_provider() -> Any:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    return SecretsProvider(boto3_client=context.aws_client("secretsmanager"))


def _unsubscribe_keys() -> PageKeys:
    """The unsubscribe links' keys, read again every few minutes, so a rotation reaches warm
    containers without a deploy (as the page-token keys)."""
    from tally.paging import PageKeys

    secret_id = ApiSettings.load().unsubscribe_secret_id
    if not secret_id:
        raise ConfigurationError(
            f"environment variable {UNSUBSCRIBE_SECRET_ID} is required for unsubscribe links"
        )
    value = _secrets_provider().get(secret_id, max_age=PAGE_KEYS_MAX_AGE, transform="json")
    if not isinstance(value, dict):
        raise ConfigurationError("the unsubscribe secret must be a JSON object")
    try:
        return PageKeys.from_secret(value)
    except ValueError as error:
        raise ConfigurationError(str(error)) from None


@lru_cache(maxsize=1)
def unsubscribe_signer() -> UnsubscribeSigner:
    from tally.notify.unsubscribe import HmacUnsubscribeSigner

    return HmacUnsubscribeSigner(_unsubscribe_keys)
