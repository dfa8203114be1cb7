"""One-click unsubscribe from the digest (RFC 8058), authorised by the signed, expiring token
in the email's link rather than by a sign-in: the link works from any mail client.

Only the token's user is unsubscribed, whoever follows the link, and only from the digest
(alerts have their own switch in the preferences). Doing it twice changes nothing the second
time. The token says nothing about the user in its errors.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from tally.errors import Conflict
from tally.models import DigestCadence, Preferences
from tally.notify.ports import UnsubscribeSigner
from tally.store import Stores

# A user's own save racing the link: read again and retry, a few times at most.
_ATTEMPTS = 3


def check_token(signer: UnsubscribeSigner, token: str, *, now: datetime) -> None:
    """Raise ``Invalid`` on ``token`` when the link is altered or expired (the confirmation
    page asks before anything changes, so link scanners that fetch it change nothing)."""
    signer.verify(token, now=now)


def unsubscribe_digest(
    stores: Stores, signer: UnsubscribeSigner, token: str, *, now: datetime
) -> Preferences:
    """Turn the token's user's digest off; their preferences as saved (unchanged if the
    digest was off already). Raises ``Invalid`` on ``token`` when it was altered or expired."""
    user_id = signer.verify(token, now=now)
    conflicts = 0
    while True:
        current = stores.preferences.get(user_id) or Preferences(user_id=user_id)
        if current.digest is DigestCadence.OFF:
            return current
        try:
            return stores.preferences.put(
                replace(current, digest=DigestCadence.OFF, updated_at=now)
            )
        except Conflict:
            conflicts += 1
            if conflicts == _ATTEMPTS:
                raise
