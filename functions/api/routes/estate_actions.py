"""The estate's management actions: one route for every change (issue 15)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body

from api import context
from api.estate_action_schemas import ChangeOut, EstateActionIn, EstateActionOut, SizingOut
from api.lazy import estate_actions, estate_sizing
from api.problems import responses
from api.schemas import Money

router = Router()


@router.post(
    "/actions",
    summary="Preview or perform a management action on the AWS estate",
    description="One path for every change: the caller's permission for that action on that "
    "resource (a member manages only their own functions, and sets alarms only on their own "
    "resources: an EC2 instance, RDS DB instance or S3 bucket by ARN, or a function; each"
    " IAM action is a permission of its own that no built-in role holds), then with "
    "preview=true exactly what would change (read from the estate cache and Tally's "
    "assignments: no AWS call), or with preview=false the change, made by the management "
    "function with its own role, audited with before and after, told to the resource's "
    "other owners, and written into the estate cache. 422: an unknown action, or a "
    "parameter (errors name parameters.<name>); 404: the target is not in the estate "
    "cache (an alarm's EC2, RDS or S3 target: nobody owns it and the caller does not read"
    " the organisation's estate); 403: not permitted on that target, or an IAM user "
    "outside the managed path; 409 with type .../action-disabled: the action's family is "
    "turned off in this deployment (TALLY_ESTATE_ACTIONS); 409 (conflict): nothing to do,"
    " or AWS refused the change.",
    responses=responses(200, EstateActionOut, 403, 409),
    tags=["estate"],
)
def estate_action(body: Annotated[EstateActionIn, Body()]) -> EstateActionOut:
    view = context.view(router)
    outcome = estate_actions.run_action(
        view,
        estate_actions.ActionRequest(
            action=body.action,
            target=body.target,
            parameters=body.parameters,
            preview=body.preview,
        ),
        settings=context.action_settings(),
        runner=context.action_runner(),
        tag_rule=context.owner_tag_rule(),
    )
    if not outcome.preview and body.action == "cloudwatch:PutMetricAlarm":
        # The metrics panels keep the region's alarms a minute: the alarm just made must be
        # on the panel the caller goes back to (this container's; others lag a minute at most).
        from api.routes.estate import metrics_cache

        metrics_cache().clear()
    return _out(outcome)


def _money(amount: object) -> Money | None:
    return (
        Money(amount=str(amount), currency=estate_sizing.CURRENCY) if amount is not None else None
    )


def _out(outcome: estate_actions.ActionOutcome) -> EstateActionOut:
    sizing = None
    if outcome.sizing is not None:
        s = outcome.sizing
        sizing = SizingOut(
            memory=s.memory,
            timeout=s.timeout,
            reasons=list(s.reasons),
            monthly_cost_now=_money(s.monthly_cost_now),
            monthly_cost_suggested=_money(s.monthly_cost_suggested),
            monthly_cost_requested=_money(s.monthly_cost_requested),
            assumption=estate_sizing.ASSUMPTION,
        )
    return EstateActionOut(
        action=outcome.action,
        target=outcome.target,
        arn=outcome.arn,
        region=outcome.region,
        preview=outcome.preview,
        owners=list(outcome.owners),
        changes=[ChangeOut(field=c.field, before=c.before, after=c.after) for c in outcome.changes],
        removes=list(outcome.removes),
        sizing=sizing,
        before=outcome.before,
        after=outcome.after,
        performed_at=outcome.performed_at,
        notified=list(outcome.notified),
    )
