"""RFC 6238 TOTP codes as an authenticator app computes them (SHA-1, 6 digits, 30 seconds),
for tests that sign in with two-step sign-in. Small enough not to need a library.

moto checks a code against its own clock with no tolerance window: real time is the subject
here, so ``code_now`` reads it, and waits out the last seconds of a step so that the code is
still current when moto receives it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import time

STEP_SECONDS = 30
DIGITS = 6
# A code computed this close to the end of its step may arrive at moto in the next one.
SAFETY_SECONDS = 4


def totp(secret: str, at: float) -> str:
    """The code for base32 ``secret`` at Unix time ``at``."""
    padded = secret.upper() + "=" * (-len(secret) % 8)
    key = base64.b32decode(padded)
    counter = int(at) // STEP_SECONDS
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**DIGITS).zfill(DIGITS)


def code_now(secret: str) -> str:
    """The current code, never one about to expire."""
    now = time.time()  # real time: TOTP codes are the current time, by design
    left = STEP_SECONDS - now % STEP_SECONDS
    if left < SAFETY_SECONDS:
        time.sleep(left + 0.2)
        now = time.time()  # real time: as above, after waiting for the next step
    return totp(secret, now)


def wrong_code(secret: str) -> str:
    """A well-formed code that is not the current one."""
    right = code_now(secret)
    return str((int(right) + 1) % 10**DIGITS).zfill(DIGITS)
