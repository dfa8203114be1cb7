"""cdk-nag 3 wiring: the rule packs the app is checked against, and reasoned acknowledgements.

cdk-nag 3 runs as a CDK policy-validation plugin: ``app.synth()`` fails on any finding that is
not acknowledged, warnings included. An acknowledgement is recorded on the construct (and
covers its children), so put it on the narrowest construct that carries the finding.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from aws_cdk import Acknowledgment, Validations
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


@dataclass(frozen=True)
class RecordedAcknowledgement:
    path: str
    rule_id: str
    reason: str


def recorded_acknowledgements(root: IConstruct) -> Iterator[RecordedAcknowledgement]:
    """Every acknowledgement in the tree, as CDK recorded it (also ones made without ``acknowledge``)."""
    key = Validations.ACKNOWLEDGED_RULES_METADATA_KEY
    for construct in root.node.find_all():
        for entry in construct.node.metadata:
            if entry.type != key or not entry.data:
                continue
            for rule_id, reason in dict(entry.data).items():
                yield RecordedAcknowledgement(
                    path=construct.node.path,
                    # CDK prefixes IDs it does not know with "Annotation::"; cdk-nag strips it.
                    rule_id=rule_id.split("::", 1)[1] if rule_id.lower().startswith("annotation::") else rule_id,
                    reason=str(reason or ""),
                )
