"""Encryption at rest and TLS-only access for every bucket, topic and queue; log retention
everywhere; the dashboard only through CloudFront's origin access control."""

from __future__ import annotations

from typing import Any

import pytest

from infra import outputs
from tests.infra.conftest import Synthesized

SECURE_TRANSPORT_DENY = {"Bool": {"aws:SecureTransport": "false"}}


def _denies_insecure_transport(document: dict[str, Any]) -> bool:
    return any(
        statement["Effect"] == "Deny" and statement.get("Condition") == SECURE_TRANSPORT_DENY
        for statement in document["Statement"]
    )


def _policy_of(synth: Synthesized, policy_type: str, key: str, target: str) -> dict[str, Any]:
    for policy in synth.resources(policy_type).values():
        refs = policy["Properties"][key]
        refs = refs if isinstance(refs, list) else [refs]
        if {"Ref": target} in refs:
            return dict(policy["Properties"]["PolicyDocument"])
    raise AssertionError(f"no {policy_type} for {target}")


def test_every_bucket_is_private_encrypted_and_ssl_only(synth: Synthesized) -> None:
    buckets = synth.resources("AWS::S3::Bucket")
    assert len(buckets) == 4  # exports, ingest work files, dashboard, access logs
    for logical_id, bucket in buckets.items():
        properties = bucket["Properties"]
        assert properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert properties["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        assert bucket["DeletionPolicy"] == "Retain"
        policy = _policy_of(synth, "AWS::S3::BucketPolicy", "Bucket", logical_id)
        assert _denies_insecure_transport(policy), logical_id


@pytest.mark.parametrize("output_id", [outputs.EXPORT_BUCKET, outputs.DASHBOARD_BUCKET])
def test_buckets_log_access(synth: Synthesized, output_id: str) -> None:
    logging = synth.properties(synth.output_target(output_id))["LoggingConfiguration"]
    access_logs = logging["DestinationBucketName"]["Ref"]
    assert access_logs != synth.output_target(output_id)
    assert synth.properties(access_logs)["LifecycleConfiguration"]["Rules"][0]["ExpirationInDays"]


def test_exports_expire_and_accept_data_exports(synth: Synthesized) -> None:
    exports = synth.output_target(outputs.EXPORT_BUCKET)
    rules = synth.properties(exports)["LifecycleConfiguration"]["Rules"]
    assert rules[0]["ExpirationInDays"] == 400
    policy = _policy_of(synth, "AWS::S3::BucketPolicy", "Bucket", exports)
    writers = [s for s in policy["Statement"] if s.get("Sid") == "DataExportsWrite"]
    assert writers and writers[0]["Condition"]["StringLike"]["aws:SourceAccount"]


def test_topics_are_kms_encrypted_and_ssl_only(synth: Synthesized) -> None:
    topics = synth.resources("AWS::SNS::Topic")
    assert len(topics) == 4  # admin alerts, operations, email feedback, estate alarms
    key_id = synth.properties(synth.output_target(outputs.ADMIN_ALERTS_TOPIC_ARN))[
        "KmsMasterKeyId"
    ]["Fn::GetAtt"][0]
    key = synth.json["Resources"][key_id]
    for other_key in synth.resources("AWS::KMS::Key").values():
        assert other_key["Properties"]["EnableKeyRotation"] is True
    for logical_id, topic in topics.items():
        assert topic["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
        policy = _policy_of(synth, "AWS::SNS::TopicPolicy", "Topics", logical_id)
        assert _denies_insecure_transport(policy), logical_id
    # CloudWatch alarms can publish only if the key lets CloudWatch use it.
    principals = [s.get("Principal") for s in key["Properties"]["KeyPolicy"]["Statement"]]
    assert {"Service": "cloudwatch.amazonaws.com"} in principals


def test_queues_are_encrypted_and_ssl_only(synth: Synthesized) -> None:
    queues = synth.resources("AWS::SQS::Queue")
    assert queues
    for logical_id, queue in queues.items():
        assert queue["Properties"]["SqsManagedSseEnabled"] is True
        policy = _policy_of(synth, "AWS::SQS::QueuePolicy", "Queues", logical_id)
        assert _denies_insecure_transport(policy), logical_id


def test_every_log_group_has_a_retention(synth: Synthesized) -> None:
    groups = synth.resources("AWS::Logs::LogGroup")
    # nine functions (the rates function the ninth), API access logs, the dashboard's upload,
    # the trigger provider
    assert len(groups) == 12
    for group in groups.values():
        assert group["Properties"]["RetentionInDays"] == 90


def test_dashboard_bucket_is_reached_only_through_origin_access_control(
    synth: Synthesized,
) -> None:
    (distribution,) = synth.resources("AWS::CloudFront::Distribution").values()
    config = distribution["Properties"]["DistributionConfig"]
    (origin,) = config["Origins"]
    assert origin["OriginAccessControlId"]
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    assert config["Logging"]["Bucket"]
    bucket = synth.output_target(outputs.DASHBOARD_BUCKET)
    policy = _policy_of(synth, "AWS::S3::BucketPolicy", "Bucket", bucket)
    readers = [
        s for s in policy["Statement"] if s["Effect"] == "Allow" and s["Action"] == "s3:GetObject"
    ]
    assert [s["Principal"] for s in readers] == [{"Service": "cloudfront.amazonaws.com"}]


def test_custom_domain_enforces_tls_1_2(variant: Synthesized) -> None:
    (distribution,) = variant.resources("AWS::CloudFront::Distribution").values()
    config = distribution["Properties"]["DistributionConfig"]
    assert config["Aliases"] == ["tally.example.org"]
    assert config["ViewerCertificate"]["MinimumProtocolVersion"] == "TLSv1.2_2021"
