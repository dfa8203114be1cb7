"""Webhook URLs at rest: sealed with KMS under the user's id as encryption context, so a
ciphertext copied onto another user's item does not open (and CloudTrail names the user on
every decrypt)."""

from __future__ import annotations

import base64
import binascii
from typing import Any


class KmsSecretBox:
    """``client`` is a boto3 ``kms`` client; ``key_id`` a key id, ARN or alias.

    ``open`` raises ``ValueError`` when the ciphertext is not one, or was sealed for another
    user or key; ``SendFailed`` (retryable) when KMS throttles or fails; other errors propagate.
    """

    def __init__(self, client: Any, key_id: str) -> None:
        self._client = client
        self.key_id = key_id

    def seal(self, plaintext: str, *, user_id: str) -> str:
        from botocore.exceptions import ClientError

        try:
            response = self._client.encrypt(
                KeyId=self.key_id,
                Plaintext=plaintext.encode(),
                EncryptionContext={"userId": user_id},
            )
        except ClientError as error:
            raise _retryable_or(error) from error
        return base64.b64encode(response["CiphertextBlob"]).decode("ascii")

    def open(self, ciphertext: str, *, user_id: str) -> str:
        from botocore.exceptions import ClientError

        try:
            blob = base64.b64decode(ciphertext, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("the sealed secret is not base64") from None
        try:
            response = self._client.decrypt(
                KeyId=self.key_id,
                CiphertextBlob=blob,
                EncryptionContext={"userId": user_id},
            )
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in ("InvalidCiphertextException", "IncorrectKeyException"):
                raise ValueError("the sealed secret does not open for this user") from None
            raise _retryable_or(error) from error
        return bytes(response["Plaintext"]).decode()


def _retryable_or(error: Exception) -> Exception:
    """A throttled or failing KMS as ``SendFailed`` (the delivery waits for the next run);
    anything else (a disabled key, a missing grant) unchanged: an operator must act."""
    from tally.notify.failures import send_failure

    failure = send_failure(error)
    return failure if failure.retryable else error
