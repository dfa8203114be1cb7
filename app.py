#!/usr/bin/env python3
"""The CDK app: synthesizes the Tally stack, checked by cdk-nag's AwsSolutions and Serverless
packs (any finding that is not acknowledged with a reason fails the synth).

``python app.py`` writes the templates to ``cdk.out/``, as ``cdk synth`` does; neither needs
AWS credentials or Docker. With the context value ``estateReadRoleFor`` the app is instead the
read-only role another account deploys for the estate inventory (``infra/estate_read_role.py``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
# The CDK CLI runs this file without the Makefile's PYTHONPATH: infra reads the table specs
# (tally.tables) and the problem shape (api.problems) from the code they describe.
for path in (ROOT / "layers", ROOT / "functions", ROOT):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))
# jsii's banner about Node 20 is noise on every synth (the check reads this variable).
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from aws_cdk import App, Environment  # noqa: E402

from infra import nag  # noqa: E402
from infra.config import EstateReadRoleConfig, TallyConfig, cdk_json_context  # noqa: E402
from infra.estate_read_role import STACK_ID as ESTATE_READ_STACK_ID  # noqa: E402
from infra.estate_read_role import EstateReadRoleStack  # noqa: E402
from infra.stack import STACK_ID, TallyStack  # noqa: E402


def build_app(app: App, env: Environment | None = None) -> TallyStack:
    """The stack on ``app``, with the rule packs registered (tests call this too)."""
    config = TallyConfig.from_context(app.node)
    stack = TallyStack(app, STACK_ID, config=config, env=env)
    nag.register(app)
    return stack


def build_estate_read_role_app(app: App, env: Environment | None = None) -> EstateReadRoleStack:
    """The member account's read role alone, with the same rule packs (tests call this too)."""
    config = EstateReadRoleConfig.from_context(app.node)
    stack = EstateReadRoleStack(app, ESTATE_READ_STACK_ID, config=config, env=env)
    nag.register(app)
    return stack


def main() -> None:
    if "CDK_OUTDIR" in os.environ:
        app = App()  # run by the CDK CLI, which passes cdk.json's context and -c values
    else:
        # Run directly (make synth): read cdk.json's context and write where `cdk synth` would.
        app = App(outdir=str(ROOT / "cdk.out"), context=cdk_json_context())
    # Account and region of the CLI's profile when deploying; none for a plain synth, which
    # then needs no credentials.
    env = Environment(
        account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION")
    )
    if EstateReadRoleConfig.asked(app.node):
        # Only the role: the Tally stack cannot be deployed into the member account by mistake.
        build_estate_read_role_app(app, env)
        app.synth()
        return
    stack = build_app(app, env)
    if stack.config.uses_placeholders:
        print(
            "note: senderEmail/adminEmail are the example.com placeholders of cdk.json; "
            "deploy with -c senderEmail=... -c adminEmail=... (docs/deploy.md)",
            file=sys.stderr,
        )
    app.synth()


if __name__ == "__main__":
    main()
