"""cdk-nag 3 wiring: the rule packs the app is checked against, and reasoned acknowledgements.

cdk-nag 3 runs as a CDK policy-validation plugin: ``app.synth()`` fails on any finding that is
not acknowledged, warnings included. An acknowledgement is recorded on the construct (and
covers its children), so put it on the narrowest construct that carries the finding.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from aws_cdk import Acknowledgment, Stack, Validations
from aws_cdk import aws_iam as iam
from cdk_nag import AwsSolutionsChecks, NagPack, ServerlessChecks
from constructs import IConstruct

# A reviewer must be able to judge the reason on its own; "n/a" or "ok" is not a reason.
MIN_REASON_LENGTH = 40


def rule_packs() -> list[NagPack]:
    """The packs Tally is held to: AWS Solutions and Serverless."""
    return [AwsSolutionsChecks(), ServerlessChecks()]


def register(app: IConstruct) -> list[NagPack]:
    packs = rule_packs()
    Validations.of(app).add_plugins(*packs)
    return packs


def acknowledge(scope: IConstruct, rule_id: str, reason: str) -> None:
    """Acknowledge one finding (``AwsSolutions-IAM5[Resource::*]``) on ``scope`` and below."""
    if len(reason.strip()) < MIN_REASON_LENGTH:
        raise ValueError(f"acknowledgement of {rule_id} on {scope.node.path} needs a real reason")
    Validations.of(scope).acknowledge(Acknowledgment(id=rule_id, reason=reason))


def flatten_reference(value: Any) -> str:
    """A resolved CloudFormation value as cdk-nag writes it into a finding ID.

    Port of cdk-nag's ``flattenCfnReference``: ``{"Ref": "AWS::Region"}`` -> ``<AWS::Region>``,
    ``Fn::GetAtt`` -> ``<Logical.Attr>``, ``Fn::Join`` joined.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value.replace("${", "<").replace("}", ">")
    if isinstance(value, dict):
        if "Fn::Join" in value:
            delimiter, items = value["Fn::Join"]
            return str(delimiter).join(flatten_reference(item) for item in items)
        if "Fn::Sub" in value:
            return flatten_reference(value["Fn::Sub"])
        if "Fn::GetAtt" in value:
            resource, attribute = value["Fn::GetAtt"]
            return f"<{flatten_reference(resource)}.{flatten_reference(attribute)}>"
        if "Fn::ImportValue" in value:
            return flatten_reference(value["Fn::ImportValue"])
        if "Ref" in value:
            return f"<{flatten_reference(value['Ref'])}>"
    raise ValueError(f"cannot flatten {value!r} the way cdk-nag does")


def acknowledge_wildcard_resources(
    scope: IConstruct, resources: Iterable[str], reason: str
) -> None:
    """Acknowledge AwsSolutions-IAM5 for exactly these resource patterns, nothing broader."""
    stack = Stack.of(scope)
    for resource in resources:
        flat = flatten_reference(stack.resolve(resource))
        if "*" not in flat:
            raise ValueError(f"{flat} has no wildcard: nothing to acknowledge")
        acknowledge(scope, f"AwsSolutions-IAM5[Resource::{flat}]", reason)


def acknowledge_managed_policy(scope: IConstruct, policy: iam.IManagedPolicy, reason: str) -> None:
    """Acknowledge AwsSolutions-IAM4 for one AWS managed policy, as cdk-nag names it (the
    partition is a reference in an environment-agnostic stack and a literal in a deployed one)."""
    flat = flatten_reference(Stack.of(scope).resolve(policy.managed_policy_arn))
    acknowledge(scope, f"AwsSolutions-IAM4[Policy::{flat}]", reason)


def acknowledge_dead_letter_queue(queue: IConstruct, *, of: str, used_by_function: bool) -> None:
    """A dead-letter queue is the end of the line: it has no dead-letter queue of its own."""
    acknowledge(
        queue,
        "Serverless-SQSRedrivePolicy",
        f"This queue is itself the dead-letter queue of {of}; a further queue would only move "
        "the same messages, and an alarm on its depth tells operators to look.",
    )
    if not used_by_function:
        # AwsSolutions-SQS3 recognises a queue named in another queue's or a function's
        # redrive configuration, not one an SNS subscription or a schedule uses.
        acknowledge(
            queue,
            "AwsSolutions-SQS3",
            f"This queue is itself the dead-letter queue of {of}, configured on that "
            "subscription or schedule, which the rule does not look at.",
        )


@dataclass(frozen=True)
class RecordedAcknowledgement:
    path: str
    rule_id: str
    reason: str


def recorded_acknowledgements(root: IConstruct) -> Iterator[RecordedAcknowledgement]:
    """Every acknowledgement in the tree as CDK recorded it, including any made without
    ``acknowledge`` (tests check their reasons too)."""
    key = Validations.ACKNOWLEDGED_RULES_METADATA_KEY
    for construct in root.node.find_all():
        for entry in construct.node.metadata:
            if entry.type != key or not entry.data:
                continue
            for rule_id, reason in dict(entry.data).items():
                yield RecordedAcknowledgement(
                    path=construct.node.path,
                    # CDK prefixes IDs it does not know with "Annotation::"; cdk-nag strips it.
                    rule_id=rule_id.split("::", 1)[1]
                    if rule_id.lower().startswith("annotation::")
                    else rule_id,
                    reason=str(reason or ""),
                )
