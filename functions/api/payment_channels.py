"""The API's payment provider, built from its settings: off unless ``TALLY_PAYMENTS=stripe``.

With Stripe on, its keys are a Secrets Manager secret (``TALLY_STRIPE_SECRET_ID``, a JSON
object ``{"apiKey": "sk_...", "webhookSecret": "whsec_..."}``, which the operator sets:
docs/deploy.md), read on first use and again every few minutes, so a rotated key reaches
warm containers without a deploy. The local stack may give the same JSON literally
(``TALLY_STRIPE_KEYS``) to try Stripe's test mode. ``stripe`` itself loads only when an invoice
is issued (``tally.payments.stripe_invoices``); the webhook never loads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from api import context
from tally.settings import PAGE_KEYS_MAX_AGE, ConfigurationError, Environment, FunctionSettings

if TYPE_CHECKING:
    from stripe import HTTPClient

    from tally.payments.port import InvoicePayments

PAYMENTS = "TALLY_PAYMENTS"
STRIPE_SECRET_ID = "TALLY_STRIPE_SECRET_ID"  # noqa: S105 - a variable name
STRIPE_KEYS = "TALLY_STRIPE_KEYS"
# Local stack only: where the Stripe client sends its calls (the recorded stand-in,
# infra/local/stripe_standin.py); unset, Stripe's own API.
STRIPE_API_BASE = "TALLY_STRIPE_API_BASE"
PROVIDERS = ("stripe",)


@dataclass(frozen=True)
class PaymentSettings(FunctionSettings):
    provider: str | None = None  # None: payments are off
    stripe_secret_id: str | None = None
    stripe_keys: str | None = None  # the secret's JSON itself (local stack only)
    stripe_api_base: str | None = None  # the local stand-in's URL (local stack only)

    variables: ClassVar[tuple[str, ...]] = (
        PAYMENTS,
        STRIPE_SECRET_ID,
        STRIPE_KEYS,
        STRIPE_API_BASE,
    )

    @classmethod
    def parse(cls, env: Environment) -> dict[str, Any]:
        provider = (env[PAYMENTS] or "").strip().lower() or None
        if provider is not None and provider not in PROVIDERS:
            raise ConfigurationError(f"{PAYMENTS} must be unset or 'stripe', not {provider!r}")
        secret_id = env[STRIPE_SECRET_ID] or None
        literal = env[STRIPE_KEYS] or None
        if provider and not (secret_id or literal):
            raise ConfigurationError(f"{PAYMENTS}=stripe needs {STRIPE_SECRET_ID}")
        api_base = (env[STRIPE_API_BASE] or "").strip() or None
        if api_base is not None and not api_base.startswith(("http://127.0.0.1:", "https://")):
            raise ConfigurationError(
                f"{STRIPE_API_BASE} must be https:// or the local stand-in's http://127.0.0.1:"
            )
        return {
            "provider": provider,
            "stripe_secret_id": secret_id,
            "stripe_keys": literal,
            "stripe_api_base": api_base,
        }


class KeysNotSet(ConfigurationError):
    """Stripe is on but its secret has no value yet (the operator has not set it)."""


def _stripe_keys() -> dict[str, str]:
    import json

    settings = PaymentSettings.load()
    if settings.stripe_keys:
        value: Any = json.loads(settings.stripe_keys)
    else:
        from aws_lambda_powertools.utilities.parameters import SecretsProvider
        from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

        provider = SecretsProvider(boto3_client=context.aws_client("secretsmanager"))
        try:
            value = provider.get(
                str(settings.stripe_secret_id), max_age=PAGE_KEYS_MAX_AGE, transform="json"
            )
        except GetParameterError as error:
            # A secret created without a value (infra/constructs/payments.py) has no version.
            raise KeysNotSet(f"the Stripe secret has no value yet: {error}") from None
    if not isinstance(value, dict):
        raise KeysNotSet("the Stripe secret must be a JSON object")
    return {k: v for k, v in value.items() if isinstance(v, str)}


def stripe_http_client() -> HTTPClient | None:
    """The Stripe client's transport: None, the library's own (tests give recorded answers)."""
    return None


def provider_name() -> str | None:
    """Which provider is configured (``stripe``), None when payments are off: what GET /me
    tells the dashboard, so it offers "Issue for payment" only where issuing can work. Reads
    the setting only (never the secret, never ``stripe``)."""
    return PaymentSettings.load().provider


def provider() -> InvoicePayments | None:
    """The configured provider, or None when payments are off."""
    if PaymentSettings.load().provider is None:
        return None
    from tally.payments.stripe_invoices import StripeInvoices, stripe_client

    key = _stripe_keys().get("apiKey")
    if not key:
        raise KeysNotSet("the Stripe secret has no apiKey")
    api_base = PaymentSettings.load().stripe_api_base
    return StripeInvoices(stripe_client(key, http_client=stripe_http_client(), api_base=api_base))


def webhook_secrets() -> list[str] | None:
    """The webhook's signing secrets (the current one, and ``previousWebhookSecret`` while a
    rotation is under way); None when payments are off."""
    if PaymentSettings.load().provider is None:
        return None
    keys = _stripe_keys()
    secrets = [keys.get("webhookSecret", ""), keys.get("previousWebhookSecret", "")]
    found = [s for s in secrets if s]
    if not found:
        raise KeysNotSet("the Stripe secret has no webhookSecret")
    return found
