"""The built dashboard and what it is served with, shared by CDK and the local gateway.

The site is built once (``make dashboard``: ``npm ci`` + esbuild into ``templates/dashboard/
dist``) and is the same everywhere; what differs per deployment is ``config.json`` beside
``index.html`` and the Content-Security-Policy, both made here so AWS and the local stack
cannot drift apart. No CDK import: the local gateway uses this module too.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
SITE_SOURCE_DIR = REPO_ROOT / "templates" / "dashboard"
SITE_DIR = SITE_SOURCE_DIR / "dist"
CONFIG_FILE = "config.json"
INDEX_FILE = "index.html"
# Hashed bundles (assets/) never change under their name: cached a year by browsers, in AWS
# (CloudFront, S3 metadata) and by the local gateway alike; index.html and the rest revalidate.
ASSETS_DIR = "assets"
ASSETS_CACHE_CONTROL = "public, max-age=31536000, immutable"


class SiteNotBuilt(FileNotFoundError):
    """The dashboard has not been built; ``make dashboard`` builds it."""


def built_site(site_dir: Path = SITE_DIR) -> Path:
    """The built site's folder, or ``SiteNotBuilt`` saying how to build it."""
    if not (site_dir / INDEX_FILE).is_file():
        raise SiteNotBuilt(
            f"the dashboard is not built ({site_dir / INDEX_FILE} is missing): run `make "
            "dashboard` (npm ci and npm run build in templates/dashboard)"
        )
    return site_dir


def cognito_endpoint(region: str) -> str:
    return f"https://cognito-idp.{region}.amazonaws.com/"


def runtime_config(
    *,
    api_url: str,
    region: str,
    user_pool_id: str,
    client_id: str,
    cognito_endpoint_url: str | None = None,
    revoke_token_on_sign_out: bool = True,
) -> dict[str, Any]:
    """The dashboard's ``config.json`` (values may be CDK tokens)."""
    return {
        "apiUrl": api_url,
        "region": region,
        "userPoolId": user_pool_id,
        "clientId": client_id,
        "cognitoEndpoint": cognito_endpoint_url or cognito_endpoint(region),
        "revokeTokenOnSignOut": revoke_token_on_sign_out,
    }


def content_security_policy(connect_sources: Iterable[str]) -> str:
    """A strict policy for the dashboard: its own scripts and styles only (no inline code, no
    eval, nothing from a CDN), and network calls only to the API and Cognito."""
    connect = " ".join(["'self'", *connect_sources])
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self'",
            f"connect-src {connect}",
            "manifest-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
            "object-src 'none'",
            # The invoice template's live preview: a PDF the dashboard fetched, shown from a
            # blob: URL it made itself (nothing framed from elsewhere).
            "frame-src blob:",
        ]
    )
