"""The member account's side of a cross-account estate (issue 15): one read-only role that the
Tally stack's inventory function assumes to read another account.

Deployed in the OTHER account, from this repository, by the same app (``app.py`` builds this
stack instead of Tally's when the context names ``estateReadRoleFor``)::

    npx cdk deploy -c estateReadRoleFor=<the Tally stack's output InventoryRoleArn> \\
        [-c estateRegions=eu-west-1,us-east-1] --profile <member account>

The role holds exactly the inventory's read statements (``estate_read_policy`` in
``infra/constructs/inventory.py``: the same actions, scoped to this account's functions of the
regions read and its IAM users) and trusts exactly one principal: the Tally inventory
function's role. Its name is fixed (``ESTATE_READ_ROLE_NAME``), so its ARN is known before it
exists and the Tally stack can name it in ``estateReadRoleArn`` in any order.

No ExternalId (docs/decision_log.md, 2026-12-02): it guards a third party that assumes roles
for many customers from being pointed at another customer's role (the confused deputy). Here
the only principal trusted is one role of the organisation's own Tally deployment, and which
role it assumes is the operator's deploy-time setting, never a user's input.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra.config import EstateReadRoleConfig
from infra.constructs.inventory import estate_read_policy

STACK_ID = "TallyEstateRead"
ESTATE_READ_ROLE_NAME = "TallyEstateRead"
ROLE_ARN_OUTPUT = "EstateReadRoleArn"


class EstateReadRoleStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: EstateReadRoleConfig, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.config = config
        self.role = iam.Role(
            self,
            "Role",
            role_name=ESTATE_READ_ROLE_NAME,
            assumed_by=iam.ArnPrincipal(config.trusted_role_arn),
            description="Tally: the estate inventory of another account reads this one (read-only)",
        )
        self.reads = estate_read_policy(
            self,
            "EstateReads",
            role=self.role,
            account=self.account,
            regions=list(config.regions) or [self.region],
        )
        CfnOutput(
            self,
            ROLE_ARN_OUTPUT,
            value=self.role.role_arn,
            description="Set as estateReadRoleArn in the Tally stack's context",
        )
