"""The API's read-only resource checks are granted from the resource-type registry: each
registered type's permissions, on its resource pattern, and nothing else in that policy."""

from __future__ import annotations

from infra import outputs
from infra.nag import flatten_reference
from tally.resource_types import RESOURCE_TYPES
from tests.infra.conftest import Synthesized
from tests.infra.test_iam import _as_list, _role_of

# How CDK's partition, region and account tokens read once flattened.
TOKENS = {"partition": "<AWS::Partition>", "region": "<AWS::Region>", "account": "<AWS::AccountId>"}


def test_every_registered_type_has_exactly_its_permissions(synth: Synthesized) -> None:
    role = _role_of(synth, outputs.API_FUNCTION_NAME)
    (policy,) = (
        p
        for logical_id, p in synth.resources("AWS::IAM::Policy").items()
        if logical_id.startswith("ApiResourceValidation")
    )
    assert policy["Properties"]["Roles"] == [{"Ref": role}]
    granted = {
        (action, flatten_reference(resource))
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        for action in _as_list(statement["Action"])
        for resource in _as_list(statement["Resource"])
    }
    assert granted == {
        (action, permission.resource.format(**TOKENS))
        for rtype in RESOURCE_TYPES
        for permission in rtype.permissions
        for action in permission.actions
    }
