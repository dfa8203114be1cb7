"""The estate's management actions: each named by the AWS API action it performs, with its
family (the setting that turns it on), the permission it needs, the kind of resource it
acts on, and its parameters' rules.

Parameters arrive as the JSON object of the request (camelCase names); ``validate`` returns
them checked and typed, or raises ``Invalid`` on ``parameters.<name>`` (422). Unknown
parameters are refused too: a typo must not silently do less than the caller asked.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from tally.errors import Invalid
from tally.estate.metrics import PANELS, alarm_metrics

ActionFamily = Literal["lambda", "iam", "alarms", "refresh"]
ACTION_FAMILIES: tuple[ActionFamily, ...] = ("lambda", "iam", "alarms", "refresh")
# What a target is: a cached Lambda function, a cached IAM user, an IAM user about to be
# created (not cached yet), a resource or region to re-read, or a resource with a metrics
# panel (an EC2 instance, an RDS DB instance, an S3 bucket by ARN, or a cached function).
TargetKind = Literal["function", "user", "new-user", "refresh", "metric-resource"]

REFRESH = "tally:RefreshInventory"
MEMORY_MB = (128, 10240)  # Lambda's limits
TIMEOUT_SECONDS = (1, 900)
# A function's reserved concurrency cannot exceed the account's limit (1,000 by default);
# AWS refuses more than the account has unreserved, which the management function reports.
MAX_RESERVED = 10000
# Every panel's metrics (tally.estate.metrics.PANELS); the resource's type narrows them once
# the target is known (tally.estate.actions.alarm_params).
ALARM_METRICS: tuple[str, ...] = tuple(
    dict.fromkeys(m for kind in PANELS for m in alarm_metrics(kind))
)
ALARM_STATISTICS = ("Sum", "Average", "Maximum", "Minimum", "SampleCount")
ALARM_COMPARISONS = (
    "GreaterThanOrEqualToThreshold",
    "GreaterThanThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
)
# IAM's own rules for names (CreateUser, AddUserToGroup) and access key ids.
IAM_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")
GROUP_NAME = re.compile(r"^[\w+=,.@-]{1,128}$")
ACCESS_KEY_ID = re.compile(r"^[A-Z0-9]{16,128}$")
OWNER_TAG_VALUE = re.compile(r"^[\w.:/=+@ -]{1,256}$")

Params = dict[str, Any]
Validator = Callable[[Mapping[str, Any]], Params]


@dataclass(frozen=True)
class ActionSpec:
    name: str
    family: ActionFamily
    permission: str
    target: TargetKind
    validate: Validator
    summary: str


def _field(name: str, message: str) -> Invalid:
    return Invalid.field(f"parameters.{name}", message)


def _only(params: Mapping[str, Any], *allowed: str) -> None:
    extra = sorted(set(params) - set(allowed))
    if extra:
        raise _field(extra[0], "not a parameter of this action")


def _int(params: Mapping[str, Any], name: str, low: int, high: int) -> int:
    value = params.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _field(name, f"a whole number from {low} to {high} is required")
    if not low <= value <= high:
        raise _field(name, f"must be from {low} to {high}")
    return value


def _str(params: Mapping[str, Any], name: str, pattern: re.Pattern[str], what: str) -> str:
    value = params.get(name)
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise _field(name, f"{what} is required")
    return value


def _choice(params: Mapping[str, Any], name: str, choices: tuple[str, ...], default: str) -> str:
    value = params.get(name, default)
    if value not in choices:
        raise _field(name, f"must be one of {', '.join(choices)}")
    return str(value)


def _none(params: Mapping[str, Any]) -> Params:
    _only(params)
    return {}


def _concurrency(params: Mapping[str, Any]) -> Params:
    _only(params, "reservedConcurrency")
    return {"reservedConcurrency": _int(params, "reservedConcurrency", 0, MAX_RESERVED)}


def _configuration(params: Mapping[str, Any]) -> Params:
    _only(params, "memory", "timeout")
    if "memory" not in params and "timeout" not in params:
        raise Invalid.field("parameters", "give memory (MB), timeout (seconds) or both")
    out: Params = {}
    if "memory" in params:
        out["memory"] = _int(params, "memory", *MEMORY_MB)
    if "timeout" in params:
        out["timeout"] = _int(params, "timeout", *TIMEOUT_SECONDS)
    return out


def _owner_tag(params: Mapping[str, Any]) -> Params:
    _only(params, "owner")
    return {"owner": _str(params, "owner", OWNER_TAG_VALUE, "the owner (a username or email)")}


def _access_key(params: Mapping[str, Any]) -> Params:
    _only(params, "accessKeyId")
    return {"accessKeyId": _str(params, "accessKeyId", ACCESS_KEY_ID, "an access key id")}


def _key_status(params: Mapping[str, Any]) -> Params:
    _only(params, "accessKeyId", "status")
    status = params.get("status")
    if status not in ("Active", "Inactive"):
        raise _field("status", "Active (reactivate) or Inactive (deactivate) is required")
    return {**_access_key({"accessKeyId": params.get("accessKeyId")}), "status": status}


def _group(params: Mapping[str, Any]) -> Params:
    _only(params, "group")
    return {"group": _str(params, "group", GROUP_NAME, "a group name")}


def _new_user(params: Mapping[str, Any]) -> Params:
    _only(params, "groups", "owner")
    groups = params.get("groups", [])
    if not isinstance(groups, list) or len(groups) > 10:
        raise _field("groups", "a list of at most 10 group names")
    for group in groups:
        if not isinstance(group, str) or not GROUP_NAME.fullmatch(group):
            raise _field("groups", f"{str(group)[:40]!r} is not a group name")
    out: Params = {"groups": sorted(set(groups))}
    if "owner" in params:
        out["owner"] = _owner_tag({"owner": params["owner"]})["owner"]
    return out


def _alarm(params: Mapping[str, Any]) -> Params:
    _only(params, "metric", "threshold", "comparison", "statistic", "periodSeconds", "periods")
    raw = params.get("threshold")
    try:
        if isinstance(raw, bool) or not isinstance(raw, (int, str)):
            raise InvalidOperation
        threshold = Decimal(str(raw))
    except InvalidOperation:
        raise _field("threshold", "a number (or a decimal string) is required") from None
    if not threshold.is_finite() or threshold < 0:
        raise _field("threshold", "must be a number of at least 0")
    period = _int({"p": params.get("periodSeconds", 300)}, "p", 60, 86400)
    if period % 60:
        raise _field("periodSeconds", "must be a multiple of 60")
    metric = params.get("metric")
    if metric not in ALARM_METRICS:
        raise _field("metric", f"must be one of {', '.join(ALARM_METRICS)}")
    out: Params = {
        "metric": metric,
        "threshold": str(threshold),
        "comparison": _choice(
            params, "comparison", ALARM_COMPARISONS, "GreaterThanOrEqualToThreshold"
        ),
        "periodSeconds": period,
        "periods": _int({"periods": params.get("periods", 1)}, "periods", 1, 24),
    }
    # Without one, the statistic the resource's panel draws (known with the target).
    if "statistic" in params:
        out["statistic"] = _choice(params, "statistic", ALARM_STATISTICS, "Sum")
    return out


def _refresh(params: Mapping[str, Any]) -> Params:
    _only(params, "family")
    family = params.get("family")
    if family is not None and family not in ("lambda", "network", "iam", "metrics"):
        raise _field("family", "must be one of lambda, network, iam, metrics")
    return {"family": family} if family else {}


def _iam(name: str, validate: Validator, summary: str, target: TargetKind = "user") -> ActionSpec:
    # Each IAM action is a permission of its own, held by no built-in role (policies/roles.json).
    return ActionSpec(name, "iam", f"estate:{name}", target, validate, summary)


LAMBDA_MANAGE = "estate:lambda:manage"
ALARMS_WRITE = "estate:alarms:write"
REFRESH_PERMISSION = "estate:refresh"

ACTIONS: dict[str, ActionSpec] = {
    spec.name: spec
    for spec in (
        ActionSpec(
            "lambda:PutFunctionConcurrency",
            "lambda",
            LAMBDA_MANAGE,
            "function",
            _concurrency,
            "Reserve concurrency for a function (0 pauses it)",
        ),
        ActionSpec(
            "lambda:DeleteFunctionConcurrency",
            "lambda",
            LAMBDA_MANAGE,
            "function",
            _none,
            "Remove a function's reserved concurrency (unpauses a paused function)",
        ),
        ActionSpec(
            "lambda:UpdateFunctionConfiguration",
            "lambda",
            LAMBDA_MANAGE,
            "function",
            _configuration,
            "Change a function's memory and timeout",
        ),
        ActionSpec(
            "lambda:TagResource",
            "lambda",
            LAMBDA_MANAGE,
            "function",
            _owner_tag,
            "Set a function's Owner tag",
        ),
        _iam("iam:UpdateAccessKey", _key_status, "Deactivate or reactivate an access key"),
        _iam("iam:DeleteAccessKey", _access_key, "Delete an access key"),
        _iam("iam:DeleteLoginProfile", _none, "Disable console access (delete the password)"),
        _iam("iam:AddUserToGroup", _group, "Add a user to a group"),
        _iam("iam:RemoveUserFromGroup", _group, "Remove a user from a group"),
        _iam("iam:UpdateLoginProfile", _none, "Require a password reset at next sign-in"),
        _iam(
            "iam:CreateUser",
            _new_user,
            "Create a user without credentials, in chosen groups, under the managed path",
            target="new-user",
        ),
        _iam("iam:DeleteUser", _none, "Delete a user and everything attached to it"),
        ActionSpec(
            "cloudwatch:PutMetricAlarm",
            "alarms",
            ALARMS_WRITE,
            "metric-resource",
            _alarm,
            "A threshold alarm on one of a resource's panel metrics, notifying its owners in Tally",
        ),
        ActionSpec(
            REFRESH,
            "refresh",
            REFRESH_PERMISSION,
            "refresh",
            _refresh,
            "Re-read one resource, or one region's family, into the estate cache",
        ),
    )
}

IAM_PERMISSIONS: tuple[str, ...] = tuple(
    spec.permission for spec in ACTIONS.values() if spec.family == "iam"
)


def action_spec(name: str) -> ActionSpec:
    """The action ``name``, or ``Invalid`` on ``action`` (422) for one Tally does not know."""
    spec = ACTIONS.get(name)
    if spec is None:
        raise Invalid.field("action", f"unknown action; one of {', '.join(ACTIONS)}")
    return spec
