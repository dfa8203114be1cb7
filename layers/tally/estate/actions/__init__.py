"""The estate's management actions: one path for every change (issue 15).

``run_action`` takes the caller's request ``{action, target, parameters, preview}`` and, in
order: knows the action (422 on ``action``), checks its parameters (422 on
``parameters.<name>``), refuses a family the deployment has not turned on (``Disabled``,
409), finds the target in the estate cache (404; ``iam:CreateUser`` instead refuses a name
already there, 409), refuses an IAM user outside the managed path (403), and decides the
action's permission on the resource's Tally owners (assignments in force today, else the
owner tag: the same ownership claims use; an unowned resource, a new user and a region are
the organisation's): a member's own function is theirs to manage, anyone else's is 403. An
alarm's target may also be an EC2 instance, RDS DB instance or S3 bucket by the ARN the
metrics panel takes: not cached, owned by its assignments, 404 when nobody owns it and the
caller does not read the organisation's estate.

Then a preview answers exactly what would change, from the cache alone (no AWS call); or the
action is performed by the management function (its own Lambda and role, through
``ActionRunner``), which makes the AWS call, reads the resource back and writes it into the
cache, and returns the resource before and after. An audit entry records both, and every
owner other than the caller gets an in-app notification. A refresh is performed by the
inventory function (its read-only role and its own code).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from tally.access import DENIED, allows
from tally.allocation import OwnerTagRule
from tally.authz import Target
from tally.clock import Clock, utc_now
from tally.errors import Conflict, Disabled, Forbidden, Invalid, NotFound
from tally.estate.actions.catalog import (
    ACTIONS,
    IAM_NAME,
    REFRESH,
    ActionSpec,
    Params,
    action_spec,
)
from tally.estate.actions.settings import ActionSettings
from tally.estate.actions.sizing import CURRENCY, Sizing, monthly_cost, suggest
from tally.estate.inventory import GLOBAL, scope_of
from tally.estate.metrics import PanelResource, alarm_metrics, metric_dimensions, metric_spec
from tally.estate.models import (
    EstateRecord,
    EstateScope,
    FunctionMetrics,
    LambdaFunction,
    from_document,
)
from tally.models import ORG, AuditEntry, Notification
from tally.resources import parse_arn
from tally.view import View

__all__ = [
    "ACTIONS",
    "ActionOutcome",
    "ActionRequest",
    "ActionRunner",
    "Change",
    "run_action",
]

AUDIT_ACTION = "estate.action"
FAMILY_HINT = "TALLY_ESTATE_ACTIONS"


class ActionRunner(Protocol):
    """Where an action is performed: the management function (``perform``) and, for a
    refresh, the inventory function (``refresh``). Both return the function's JSON answer."""

    def perform(self, command: dict[str, Any]) -> dict[str, Any]: ...

    def refresh(self, event: dict[str, Any]) -> dict[str, Any]: ...


@dataclass(frozen=True)
class ActionRequest:
    action: str
    target: str
    parameters: Mapping[str, Any] = field(default_factory=dict)
    preview: bool = True


@dataclass(frozen=True)
class Change:
    """One thing the action changes: ``field`` of the target from ``before`` to ``after``
    (None: absent; a removal has ``after`` None)."""

    field: str
    before: Any
    after: Any


@dataclass(frozen=True)
class ActionOutcome:
    action: str
    target: str  # the resource's name (a region refresh: "region:<name>")
    arn: str | None
    region: str
    preview: bool
    owners: tuple[str, ...]
    changes: tuple[Change, ...]
    # iam:DeleteUser: everything the deletion removes first ("accessKey:AKIA...", ...).
    removes: tuple[str, ...] = ()
    sizing: Sizing | None = None
    currency: str = CURRENCY
    # Performed only: the resource as the management function read it before and after.
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    performed_at: datetime | None = None
    notified: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Target:
    kind: str  # function | user | new-user | region | resource (EC2, RDS, S3: not cached)
    name: str
    region: str
    scope: EstateScope | None
    record: EstateRecord | None
    arn: str | None = None
    family: str | None = None  # a refresh's family
    panel: PanelResource | None = None  # an alarm's target: its metrics and dimensions


# ---- the target ----------------------------------------------------------------------------


def _name_and_region(target: str, settings: ActionSettings, service: str) -> tuple[str, str | None]:
    """A name, or an ARN of ``service`` (its name, and its region for Lambda)."""
    target = target.strip()
    if not target.startswith("arn:"):
        return target, None
    parsed = parse_arn(target)
    parts = target.split(":")
    if parsed is None or parsed[0] != service or len(parts) < 6:
        raise Invalid.field("target", f"not a {service} ARN")
    if parts[4] != settings.account:
        raise Forbidden("that resource is in an account Tally does not manage")
    return parsed[1], parts[3] or None


def _function_target(target: str, view: View, settings: ActionSettings) -> _Target:
    name, region = _name_and_region(target, settings, "lambda")
    regions = (region,) if region else settings.regions
    if region and region not in settings.regions:
        raise NotFound("no such function in the estate cache (its region is not read)")
    for r in regions:
        scope = scope_of(settings.account, r, "lambda")
        record = view.stores.estate.get(scope, f"function#{name}")
        if record is not None:
            return _Target("function", name, r, scope, record, record.document.get("arn"))
    raise NotFound("no such function in the estate cache; refresh the inventory if it is new")


def _user_target(target: str, view: View, settings: ActionSettings, *, new: bool) -> _Target:
    name, _ = _name_and_region(target, settings, "iam")
    scope = scope_of(settings.account, GLOBAL, "iam")
    if new:
        if not IAM_NAME.fullmatch(name):
            raise Invalid.field("target", "an IAM user name: up to 64 letters, digits and +=,.@_-")
        if view.stores.estate.get(scope, f"user#{name}") is not None:
            raise Conflict("an IAM user of that name already exists")
        return _Target("new-user", name, GLOBAL, scope, None)
    record = view.stores.estate.get(scope, f"user#{name}")
    if record is None:
        raise NotFound("no such IAM user in the estate cache; refresh the inventory if it is new")
    path = str(record.document.get("path", "/"))
    if not path.startswith(settings.iam_path):
        raise Forbidden(
            f"that IAM user is outside the path Tally manages ({settings.iam_path}); "
            "see TALLY_ESTATE_IAM_PATH"
        )
    return _Target("user", name, GLOBAL, scope, record, record.document.get("arn"))


def _refresh_target(target: str, params: Params, view: View, settings: ActionSettings) -> _Target:
    family = params.get("family")
    if target.startswith("region:"):
        region = target.removeprefix("region:")
        if region == GLOBAL and family == "iam":
            # IAM is global: its screen knows no region, and the inventory reads it once.
            return _Target("region", target, GLOBAL, None, None, family=family)
        if region not in settings.regions:
            raise Invalid.field(
                "target", f"not a region Tally reads: {', '.join(settings.regions)}"
            )
        if family is None:
            raise Invalid.field("parameters.family", "a region's refresh names its family")
        return _Target("region", target, region, None, None, family=family)
    if family in (None, "lambda", "metrics") and not target.startswith("arn:aws:iam"):
        try:
            found = _function_target(target, view, settings)
            return _Target(
                "function",
                found.name,
                found.region,
                found.scope,
                found.record,
                found.arn,
                family or "lambda",
            )
        except NotFound:
            if family is not None:
                raise
    if family in (None, "iam"):
        found = _user_target(target, view, settings, new=False)
        return _Target("user", found.name, GLOBAL, found.scope, found.record, found.arn, "iam")
    raise Invalid.field("parameters.family", "one resource is refreshed as lambda, metrics or iam")


def _metric_resource_target(target: str, view: View, settings: ActionSettings) -> _Target:
    """An alarm's target: a function (by name or ARN, from the cache) or, by the ARN the
    metrics panel takes, an EC2 instance, RDS DB instance or S3 bucket. Those are not in the
    estate cache: an ARN without a region (``arn:aws:ec2:::instance/i-...``, as the resource
    page sends it) is in the deployment's first region, as for ``GET /api/estate/metrics``;
    whether the caller may see it is decided with its owners (``_visible``)."""
    from tally.estate.metrics import parse_resource

    value = target.strip()
    if not value.startswith("arn:") or value.startswith("arn:aws:lambda:"):
        found = _function_target(value, view, settings)
        arn = found.arn or f"arn:aws:lambda:{found.region}:{settings.account}:function:{found.name}"
        return replace(found, panel=parse_resource(arn))
    try:
        panel = parse_resource(value)
    except Invalid:
        raise Invalid.field(
            "target", "an EC2 instance, RDS DB instance, S3 bucket or Lambda function"
        ) from None
    if panel.account and panel.account != settings.account:
        raise Forbidden("that resource is in an account Tally does not manage")
    region = panel.region or settings.regions[0]
    if region not in settings.regions:
        raise NotFound("no such resource (its region is not one Tally manages)")
    return _Target("resource", panel.name, region, None, None, panel.arn, panel=panel)


def _resolve(
    spec: ActionSpec, request: ActionRequest, params: Params, view: View, settings: ActionSettings
) -> _Target:
    if not request.target.strip() or len(request.target) > 2048:
        raise Invalid.field("target", "a resource name or ARN is required")
    if spec.target == "function":
        return _function_target(request.target, view, settings)
    if spec.target == "metric-resource":
        return _metric_resource_target(request.target, view, settings)
    if spec.target == "user":
        return _user_target(request.target, view, settings, new=False)
    if spec.target == "new-user":
        return _user_target(request.target, view, settings, new=True)
    return _refresh_target(request.target.strip(), params, view, settings)


# ---- who owns it, and may the caller act -----------------------------------------------------


class _CachedTags:
    """The owner tag as the estate cache holds it (``tally.claims.ownership``'s catalog)."""

    def __init__(self, tags: Mapping[str, str]) -> None:
        self._tags = tags

    def exists(self, resource_type: str, resource_id: str) -> bool:
        return True

    def owner_tag(self, resource_type: str, resource_id: str, key: str) -> str | None:
        return self._tags.get(key)


def owners_of(view: View, target: _Target, tag_rule: OwnerTagRule) -> tuple[str, ...]:
    """The resource's Tally owners today (sorted), or none: the organisation's. A resource
    not in the estate cache (EC2, RDS, S3) is owned by its assignments: no owner tag is read
    (the metrics panel decides so too)."""
    from tally.claims import ownership

    if target.kind == "resource" and target.panel is not None:
        owned = ownership(
            target.panel.kind,
            target.panel.arn,
            stores=view.stores,
            catalog=_CachedTags({}),
            tag_rule=tag_rule,
        )
        return tuple(sorted(owned.owners(view.today)))
    if target.record is None:
        return ()
    resource_type = "lambda" if target.kind == "function" else "iam"
    owned = ownership(
        resource_type,
        target.arn or target.name,
        stores=view.stores,
        catalog=_CachedTags(target.record.document.get("tags") or {}),
        tag_rule=tag_rule,
    )
    return tuple(sorted(owned.owners(view.today)))


def _visible(view: View, target: _Target, owners: tuple[str, ...]) -> None:
    """A resource outside the estate cache exists for Tally when someone owns it; unowned,
    only a caller reading the organisation's estate sees it (404 for anyone else, as the
    metrics panel answers)."""
    if target.kind != "resource" or owners:
        return
    from tally.estate.views import reach

    try:
        org = reach(view).org
    except Forbidden:
        org = False
    if not org:
        raise NotFound("no such resource")


def alarm_params(target: _Target, params: Params) -> Params:
    """The alarm's parameters for its resource: a metric of the resource's panel (422 on
    ``parameters.metric`` otherwise), the statistic its panel draws when none was given
    (Maximum for a percentile), and the metric's namespace and dimensions."""
    panel = target.panel
    assert panel is not None
    allowed = alarm_metrics(panel.kind)
    if params["metric"] not in allowed:
        raise Invalid.field("parameters.metric", f"for this resource, one of {', '.join(allowed)}")
    spec = metric_spec(panel.kind, params["metric"])
    statistic = params.get("statistic") or (
        spec.stat if spec.stat in ("Sum", "Average", "Maximum", "Minimum") else "Maximum"
    )
    return {**params, "statistic": statistic}


def _alarm_metric(target: _Target, params: Params) -> dict[str, Any]:
    panel = target.panel
    assert panel is not None
    spec = metric_spec(panel.kind, params["metric"])
    return {"namespace": spec.namespace, "dimensions": metric_dimensions(panel, spec)}


def _require(view: View, spec: ActionSpec, owners: tuple[str, ...]) -> None:
    """The action's permission at the organisation, or on one of the resource's owners (a
    co-owner manages what they own a share of). Refused: the usual 403."""
    caller = view.caller
    if allows(caller, spec.permission, Target.org()):
        return
    if any(allows(caller, spec.permission, Target.user(o)) for o in owners):
        return
    from tally.access import ADMIN_NEEDS_MFA

    raise Forbidden(ADMIN_NEEDS_MFA if caller.admin_needs_mfa else DENIED)


# ---- the preview ---------------------------------------------------------------------------


def _keys(doc: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {k["key_id"]: k for k in doc.get("access_keys", [])}


def _metrics(view: View, settings: ActionSettings, target: _Target) -> FunctionMetrics | None:
    record = view.stores.estate.get(
        scope_of(settings.account, target.region, "metrics"), f"metrics#{target.name}"
    )
    return from_document(FunctionMetrics, record.document) if record else None


def _preview(
    spec: ActionSpec,
    params: Params,
    target: _Target,
    view: View,
    settings: ActionSettings,
    tag_key: str,
) -> tuple[tuple[Change, ...], tuple[str, ...], Sizing | None]:
    doc = target.record.document if target.record else {}
    name = spec.name
    if name == "lambda:PutFunctionConcurrency":
        return (
            (
                Change(
                    "reservedConcurrency",
                    doc.get("reserved_concurrency"),
                    params["reservedConcurrency"],
                ),
            ),
            (),
            None,
        )
    if name == "lambda:DeleteFunctionConcurrency":
        if doc.get("reserved_concurrency") is None:
            raise Conflict("the function has no reserved concurrency to remove")
        return (Change("reservedConcurrency", doc["reserved_concurrency"], None),), (), None
    if name == "lambda:UpdateFunctionConfiguration":
        function = from_document(LambdaFunction, doc)
        changes = tuple(
            Change(f, getattr(function, f), params[f]) for f in ("memory", "timeout") if f in params
        )
        metrics = _metrics(view, settings, target)
        sizing = suggest(function, metrics)
        if "memory" in params:
            sizing = replace(
                sizing, monthly_cost_requested=monthly_cost(function, metrics, params["memory"])
            )
        return changes, (), sizing
    if name == "lambda:TagResource":
        tag = tag_key
        return (Change(f"tags.{tag}", (doc.get("tags") or {}).get(tag), params["owner"]),), (), None
    if name in ("iam:UpdateAccessKey", "iam:DeleteAccessKey"):
        key = _keys(doc).get(params["accessKeyId"])
        if key is None:
            raise Invalid.field("parameters.accessKeyId", "not an access key of this user")
        field_name = f"accessKeys.{params['accessKeyId']}"
        if name == "iam:DeleteAccessKey":
            return (Change(field_name, key["status"], None),), (), None
        return (Change(f"{field_name}.status", key["status"], params["status"]),), (), None
    if name == "iam:DeleteLoginProfile":
        if not doc.get("console_access"):
            raise Conflict("the user has no console access to disable")
        return (Change("consoleAccess", True, False),), (), None
    if name == "iam:UpdateLoginProfile":
        if not doc.get("console_access"):
            raise Conflict("the user has no console password to reset")
        return (Change("passwordResetRequired", None, True),), (), None
    if name in ("iam:AddUserToGroup", "iam:RemoveUserFromGroup"):
        groups = list(doc.get("groups", []))
        adding = name == "iam:AddUserToGroup"
        if (params["group"] in groups) == adding:
            raise Conflict(
                "the user is already in that group" if adding else "the user is not in that group"
            )
        after = sorted({*groups, params["group"]} if adding else set(groups) - {params["group"]})
        return (Change("groups", groups, after),), (), None
    if name == "iam:CreateUser":
        tags = {tag_key: params["owner"]} if "owner" in params else {}
        return (
            (
                Change(
                    "user",
                    None,
                    {
                        "name": target.name,
                        "path": settings.iam_path,
                        "groups": params["groups"],
                        "tags": tags,
                        "consoleAccess": False,
                        "accessKeys": [],
                    },
                ),
            ),
            (),
            None,
        )
    if name == "iam:DeleteUser":
        removes = (
            *(f"accessKey:{k}" for k in _keys(doc)),
            *(["loginProfile"] if doc.get("console_access") else []),
            *(f"mfaDevice:{d}" for d in doc.get("mfa_devices", [])),
            *(f"group:{g}" for g in doc.get("groups", [])),
            *(f"inlinePolicy:{p}" for p in doc.get("inline_policies", [])),
            *(f"attachedPolicy:{p}" for p in doc.get("attached_policies", [])),
        )
        return (Change("user", target.name, None),), removes, None
    if name == "cloudwatch:PutMetricAlarm":
        return (
            (
                Change(
                    "alarm",
                    None,
                    {
                        "name": alarm_name(target.name, params),
                        **_alarm_metric(target, params),
                        **params,
                        "notifies": "the resource's owners in Tally (estate-alarms topic)",
                    },
                ),
            ),
            (),
            None,
        )
    # tally:RefreshInventory
    return (
        (Change("readAt", target.record.read_at.isoformat() if target.record else None, "now"),),
        (),
        None,
    )


def alarm_name(function: str, params: Params) -> str:
    """The alarm's name: its function, metric and threshold, so the same alarm asked twice is
    the same alarm (PutMetricAlarm replaces an alarm of the same name)."""
    comparison = {
        "GreaterThanOrEqualToThreshold": "ge",
        "GreaterThanThreshold": "gt",
        "LessThanThreshold": "lt",
        "LessThanOrEqualToThreshold": "le",
    }
    return (
        f"tally-{function}-{params['metric']}-{params['statistic']}-"
        f"{comparison[params['comparison']]}-{params['threshold']}"
    )[:255]


# ---- performing ----------------------------------------------------------------------------


def _perform(
    spec: ActionSpec,
    params: Params,
    target: _Target,
    owners: tuple[str, ...],
    settings: ActionSettings,
    runner: ActionRunner,
    view: View,
    tag_key: str,
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    if spec.name == REFRESH:
        family = target.family or "lambda"
        event = {
            "refresh": {
                "region": target.region if target.region != GLOBAL else settings.regions[0],
                "family": family,
            }
        }
        if target.kind != "region":
            event["refresh"]["name"] = target.name
        answer = runner.refresh(event)
        if answer.get("failed"):
            raise Conflict("the inventory could not read it: " + ", ".join(answer["failed"]))
        after = None
        if target.scope is not None:
            record = (
                view.stores.estate.get(target.scope, target.record.key) if target.record else None
            )
            after = record.document if record else None
        return (target.record.document if target.record else None), after
    command = {
        "action": spec.name,
        "account": settings.account,
        "region": target.region,
        "name": target.name,
        "arn": target.arn,
        "parameters": params,
        "ownerTagKey": tag_key,
        "owners": list(owners),
        "alarmName": alarm_name(target.name, params) if spec.family == "alarms" else None,
    }
    if target.kind == "resource":
        # The management function reads the type and dimensions from the ARN itself.
        command["resourceArn"] = target.arn
    answer = runner.perform(command)
    error = answer.get("error")
    if isinstance(error, Mapping):
        code, message = str(error.get("code", "")), str(error.get("message", ""))[:300]
        if code in ("AccessDenied", "AccessDeniedException"):
            raise Forbidden("AWS refused the management role: " + message)
        if code in ("NoSuchEntity", "ResourceNotFoundException", "NotFound"):
            raise NotFound("AWS no longer has it (the cache was older): " + message)
        if code in ("InvalidParameterValueException", "ValidationError", "ValidationException"):
            raise Invalid.field("parameters", "AWS refused the parameters: " + message)
        raise Conflict(f"AWS refused the change ({code}): {message}")
    return answer.get("before"), answer.get("after")


def _audit_details(
    spec: ActionSpec, target: _Target, params: Params, before: Any, after: Any
) -> dict[str, str]:
    def text(value: Any) -> str:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)[:20000]

    return {
        "action": spec.name,
        "target": target.name,
        "arn": target.arn or "",
        "region": target.region,
        "parameters": text(params),
        "before": text(before),
        "after": text(after),
    }


def _notify(
    view: View,
    spec: ActionSpec,
    target: _Target,
    owners: tuple[str, ...],
    action_id: str,
    now: datetime,
) -> tuple[str, ...]:
    others = tuple(o for o in owners if o != view.caller.user_id)
    for owner in others:
        view.stores.notifications.add(
            Notification(
                notification_id=f"estate#{action_id}",
                user_id=owner,
                kind="estate-action",
                title=f"{view.caller.username} changed {target.name}",
                body=f"{spec.summary}: {spec.name} on {target.name} ({target.region}).",
                link="#/estate",
                created_at=now,
            )
        )
    return others


def run_action(
    view: View,
    request: ActionRequest,
    *,
    settings: ActionSettings,
    runner: ActionRunner,
    tag_rule: OwnerTagRule,
    clock: Clock = utc_now,
) -> ActionOutcome:
    """Preview or perform one management action for the view's caller (module docstring)."""
    spec = action_spec(request.action)
    if not isinstance(request.parameters, Mapping):
        raise Invalid.field("parameters", "an object is required")
    params = spec.validate(request.parameters)
    if not settings.enabled(spec.family):
        raise Disabled(
            f"the {spec.family} actions are turned off in this deployment "
            f"({FAMILY_HINT}); an administrator of the deployment can turn them on"
        )
    target = _resolve(spec, request, params, view, settings)
    owners = owners_of(view, target, tag_rule)
    _visible(view, target, owners)
    _require(view, spec, owners)
    if spec.family == "alarms":
        params = alarm_params(target, params)
    changes, removes, sizing = _preview(spec, params, target, view, settings, tag_rule.key)
    outcome = ActionOutcome(
        action=spec.name,
        target=target.name,
        arn=target.arn,
        region=target.region,
        preview=request.preview,
        owners=owners,
        changes=changes,
        removes=removes,
        sizing=sizing,
    )
    if request.preview:
        return outcome
    before, after = _perform(spec, params, target, owners, settings, runner, view, tag_rule.key)
    now = clock()
    action_id = uuid.uuid4().hex
    view.stores.audit.record(
        AuditEntry(
            subject_user_id=owners[0] if owners else ORG,
            at=now,
            actor=view.caller.user_id,
            action=AUDIT_ACTION,
            entity_id=action_id,
            details=_audit_details(spec, target, params, before, after),
        )
    )
    # The owner a new Owner tag names hears of it too (it is now theirs).
    told = owners
    if spec.name == "lambda:TagResource" and target.record is not None:
        told = tuple(sorted({*owners, *owners_of(view, _retagged(target, after), tag_rule)}))
    notified = _notify(view, spec, target, told, action_id, now)
    return ActionOutcome(
        **{
            **outcome.__dict__,
            "before": before,
            "after": after,
            "performed_at": now,
            "notified": notified,
        }
    )


def _retagged(target: _Target, after: Mapping[str, Any] | None) -> _Target:
    if not after or target.record is None:
        return target
    record = EstateRecord(target.record.key, dict(after), target.record.read_at)
    return _Target(target.kind, target.name, target.region, target.scope, record, target.arn)
