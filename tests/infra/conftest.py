"""Synthesise the Tally app once per session (bundling skipped) and share the result.

Infra tests run in one xdist group so the session fixtures synthesise once, not per worker.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Before jsii starts its Node process: the Node 20 banner would otherwise fill the output.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import pytest
from aws_cdk import App, Environment
from aws_cdk.assertions import Template
from constructs import IConstruct

from app import build_app
from infra import nag
from infra.config import cdk_json_context
from infra.stack import TallyStack

INFRA_DIR = Path(__file__).parent

# Every context value that changes what is built, as the CLI passes them (strings).
VARIANT_CONTEXT = {
    "enableWaf": "true",
    "wafRateLimit": "600",
    "requireMfa": "true",
    "cognitoEmailViaSes": "true",
    "apiThrottleRate": "7",
    "apiThrottleBurst": "9",
    "scheduleExpression": "cron(30 2 * * ? *)",
    "dashboardDomain": "tally.example.org",
    "dashboardCertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/abc-123",
    "senderEmail": "costs@example.org",
    "adminEmail": "first.admin@example.org",
    "costSource": "focus",
    "restatementDays": "5",
    "logRetentionDays": "30",
    "orgName": "Example Org",
    "teamGroupPrefix": "team-",
    "sentryDsnSecretName": "tally/sentry-dsn",
    "apiXraySdk": "true",
    "ingestWorkers": "4",
    "runbookUrl": "https://git.example.org/tally/blob/main/docs/operations.md",
    "payments": "stripe",
    "paymentsWebhookRate": "3",
    "paymentsWebhookBurst": "6",
    "journalExpenseAccount": "6420",
}


# CDK's BucketDeployment (the dashboard's upload) brings its own Lambda function, role, policy
# and AWS CLI layer, all acknowledged in infra/constructs/dashboard.py; tests of Tally's own
# functions and roles look past them, and tests/infra/test_dashboard.py checks them.
CDK_DEPLOYMENT_HANDLER_PREFIX = "CustomCDKBucketDeployment"
# The same for the provider of CDK's triggers (the access migration's): a Node.js function and
# its role, which only invoke the migration function (tests/infra/test_access_migration.py).
CDK_TRIGGER_PROVIDER_PREFIX = "AWSCDKTriggerCustomResourceProvider"


def is_cdk_deployment_machinery(logical_id: str) -> bool:
    return (
        logical_id.startswith((CDK_DEPLOYMENT_HANDLER_PREFIX, CDK_TRIGGER_PROVIDER_PREFIX))
        or "AwsCliLayer" in logical_id
    )


# The ingest fan-out's worker function has no stack output of its own: tests name it by this
# key wherever they name the other functions by their output ID (``Synthesized.function_id``).
INGEST_WORKER = "ingest-worker"


@dataclass(frozen=True)
class Synthesized:
    app: App
    stack: TallyStack
    template: Template
    json: dict[str, Any]

    def resources(
        self, resource_type: str, *, include_cdk_deployment: bool = False
    ) -> dict[str, dict[str, Any]]:
        return {
            logical_id: resource
            for logical_id, resource in self.json["Resources"].items()
            if resource["Type"] == resource_type
            and (include_cdk_deployment or not is_cdk_deployment_machinery(logical_id))
        }

    def properties(self, logical_id: str) -> dict[str, Any]:
        return dict(self.json["Resources"][logical_id].get("Properties", {}))

    def output_target(self, output_id: str) -> str:
        """Logical ID of the resource an output refers to."""
        return ref_id(self.json["Outputs"][output_id]["Value"])

    def logical_id(self, construct: IConstruct) -> str:
        """Logical ID of a construct's CloudFormation resource (its default child's)."""
        resource = construct.node.default_child or construct
        return str(self.stack.resolve(resource.logical_id))

    def function_id(self, key: str) -> str:
        """Logical ID of a function: by its output ID, or ``INGEST_WORKER``."""
        if key == INGEST_WORKER:
            return self.logical_id(self.stack.node.find_child("Ingest").worker)
        return self.output_target(key)


def ref_id(value: Any) -> str:
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return str(value["Fn::GetAtt"][0])
    raise AssertionError(f"not a reference: {value!r}")


def app_context(**overrides: Any) -> dict[str, Any]:
    # No bundling: the layer's pip install belongs to `make synth`, not to every test run.
    return {**cdk_json_context(), "aws:cdk:bundling-stacks": [], **overrides}


def synthesize(
    overrides: Mapping[str, Any] | None = None, env: Environment | None = None
) -> Synthesized:
    app = App(context=app_context(**(overrides or {})))
    stack = build_app(app, env)
    # synth runs cdk-nag: any unacknowledged finding raises here.
    assembly = app.synth()
    template = assembly.get_stack_by_name(stack.stack_name).template
    return Synthesized(app=app, stack=stack, template=Template.from_json(template), json=template)


# A developer who pinned the local stack's date in their shell must not deploy it.
PINNED_IN_SHELL = "2026-12-01"


@pytest.fixture(scope="session")
def synth() -> Synthesized:
    """The app as `make synth` builds it from cdk.json's defaults (with TALLY_TODAY exported
    in the shell, as a developer who pinned their local stack might have it)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TALLY_TODAY", PINNED_IN_SHELL)
        return synthesize()


@pytest.fixture(scope="session")
def variant() -> Synthesized:
    """The app with every optional feature switched on, context given as CLI strings."""
    return synthesize(VARIANT_CONTEXT)


@pytest.fixture(scope="session")
def deployed() -> Synthesized:
    """The app as `cdk deploy` builds it: account and region known, so ARNs hold literals
    (``arn:aws:...``) where an agnostic synth has references, and findings are named so."""
    return synthesize(env=Environment(account="123456789012", region="eu-west-1"))


@pytest.fixture(scope="session")
def unacknowledged() -> Iterator[App]:
    """The default app with every acknowledgement left out (not synthesised)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(nag, "acknowledge", lambda *args, **kwargs: None)
        app = App(context=app_context())
        build_app(app)
    yield app


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if INFRA_DIR in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.xdist_group("infra-synth"))
