"""The bus for Tally's domain events (``tally.events``).

The ingest publishes ``CostsIngested`` on it; subscribers (the alerts function) add their
rules to it without depending on the ingest.
"""

from __future__ import annotations

import hashlib
import re
from typing import cast

from aws_cdk import Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from constructs import Construct

# Until 2026-12 the bus was created inside the Ingest construct, at <stack>/Ingest/Events.
# CDK derives a resource's logical id, and this bus's generated name, from its construct path,
# and CloudFormation replaces a bus whose logical id or name changes (dropping the rules on
# it): both stay what that path made them.
LEGACY_PATH = ("Ingest", "Events")
LEGACY_LOGICAL_ID = "IngestEventsEF99370A"


def generated_name(path: tuple[str, ...]) -> str:
    """The name CDK generates for a resource at ``path`` (``Names.uniqueId``): the
    components' letters and digits, then the first 8 hex digits of the path's MD5."""
    human = "".join(re.sub(r"[^A-Za-z0-9]", "", part) for part in path)
    digest = hashlib.md5("/".join(path).encode(), usedforsecurity=False).hexdigest()
    return human + digest[:8].upper()


class Events(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        stack_path = tuple(Stack.of(self).node.path.split("/"))
        self.event_bus = events.EventBus(
            self,
            "Bus",
            event_bus_name=generated_name((*stack_path, *LEGACY_PATH)),
            description="Tally domain events",
        )
        cast(events.CfnEventBus, self.event_bus.node.default_child).override_logical_id(
            LEGACY_LOGICAL_ID
        )

    def grant_publish(self, grantee: iam.IGrantable) -> iam.Grant:
        return self.event_bus.grant_put_events_to(grantee)
