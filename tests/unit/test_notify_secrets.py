"""Webhook URLs sealed with KMS (moto), bound to the user by the encryption context."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import ANY, Stubber

from tally.notify.memory import MemorySecretBox
from tally.notify.ports import SendFailed
from tally.notify.secrets import KmsSecretBox

URL = "https://hooks.slack.com/services/T000/B000/abcdefx9Qa"


@pytest.fixture
def kms(aws: Any) -> Any:
    return boto3.client("kms", region_name="us-east-1")


def test_a_sealed_url_opens_for_its_user_only(kms: Any) -> None:
    box = KmsSecretBox(kms, kms.create_key()["KeyMetadata"]["Arn"])

    sealed = box.seal(URL, user_id="u-alice")

    assert URL not in sealed and "x9Qa" not in sealed
    assert box.open(sealed, user_id="u-alice") == URL
    # moto checks the encryption context as KMS does.
    with pytest.raises(ValueError, match="does not open for this user"):
        box.open(sealed, user_id="u-bob")


def test_an_alias_names_the_key(kms: Any) -> None:
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/tally-webhooks", TargetKeyId=key)
    box = KmsSecretBox(kms, "alias/tally-webhooks")
    assert box.open(box.seal(URL, user_id="u-alice"), user_id="u-alice") == URL


@pytest.mark.parametrize("garbage", ["not base64 at all!", "bm90IGEgY2lwaGVydGV4dA=="])
def test_garbage_does_not_open(kms: Any, garbage: str) -> None:
    box = KmsSecretBox(kms, kms.create_key()["KeyMetadata"]["KeyId"])
    with pytest.raises(ValueError):
        box.open(garbage, user_id="u-alice")


def test_a_ciphertext_of_another_key_does_not_open() -> None:
    # moto answers AccessDeniedException here; KMS answers IncorrectKeyException.
    client = boto3.client("kms", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_client_error("decrypt", "IncorrectKeyException", http_status_code=400)
        with pytest.raises(ValueError, match="does not open"):
            KmsSecretBox(client, "k").open("c2VhbGVk", user_id="u-alice")


def test_throttling_is_retryable_and_a_disabled_key_is_not_hidden() -> None:
    client = boto3.client("kms", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_client_error("decrypt", "ThrottlingException", http_status_code=400)
        stub.add_client_error("encrypt", "DisabledException", http_status_code=400)
        with pytest.raises(SendFailed) as failure:
            KmsSecretBox(client, "k").open("c2VhbGVk", user_id="u-alice")
        assert failure.value.retryable is True
        with pytest.raises(ClientError, match="DisabledException"):
            KmsSecretBox(client, "k").seal(URL, user_id="u-alice")


def test_the_request_binds_the_user() -> None:
    client = boto3.client("kms", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_response(
            "encrypt",
            {"CiphertextBlob": b"sealed", "KeyId": "k"},
            {"KeyId": "k", "Plaintext": URL.encode(), "EncryptionContext": {"userId": "u-alice"}},
        )
        stub.add_response(
            "decrypt",
            {"Plaintext": URL.encode(), "KeyId": "k"},
            {"KeyId": "k", "CiphertextBlob": ANY, "EncryptionContext": {"userId": "u-alice"}},
        )
        box = KmsSecretBox(client, "k")
        assert box.open(box.seal(URL, user_id="u-alice"), user_id="u-alice") == URL


def test_the_memory_box_behaves_alike() -> None:
    box = MemorySecretBox()
    sealed = box.seal(URL, user_id="u-alice")
    assert box.open(sealed, user_id="u-alice") == URL
    with pytest.raises(ValueError):
        box.open(sealed, user_id="u-bob")
    with pytest.raises(ValueError):
        box.open("garbage", user_id="u-alice")
