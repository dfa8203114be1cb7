"""The AWS side of the management actions, run by the management function (its own role):
read the resource, make the one change, read it back, and put what was read into the estate
cache, so the views show the change at once.

A command is the JSON the API sends (``tally.estate.actions._perform``). The function checks
again what it can check on its own (a known action, an IAM user under its path, a region it
manages) so a command that reached it some other way still cannot do more than the API
allows; its role's policy is the last word (``infra/constructs/management.py``).
Tally never creates an access key, never sets a password and never returns a secret: no
call here answers with one.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from tally.estate import readers
from tally.estate.actions.catalog import ACTIONS, REFRESH
from tally.estate.clients import EstateClients, call, pages
from tally.estate.inventory import GLOBAL, function_record, scope_of, user_record
from tally.estate.models import to_document
from tally.store.estate import EstateStore


class CommandRefused(ValueError):
    """A command the management function does not run (answered as an error, code
    ``CommandRefused``)."""


def _code(error: Exception) -> str:
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code", "")) or type(error).__name__


def execute(
    command: Mapping[str, Any],
    *,
    clients: EstateClients,
    store: EstateStore,
    now: datetime,
    account: str,
    regions: tuple[str, ...],
    iam_path: str,
    alarm_topic_arn: str | None,
) -> dict[str, Any]:
    """Run ``command``: ``{"before", "after"}`` (the resource's documents), or
    ``{"error": {"code", "message"}}`` when AWS or this function refuses it."""
    try:
        return _execute(
            command,
            clients=clients,
            store=store,
            now=now,
            account=account,
            regions=regions,
            iam_path=iam_path,
            alarm_topic_arn=alarm_topic_arn,
        )
    except CommandRefused as refused:
        return {"error": {"code": "CommandRefused", "message": str(refused)}}
    except Exception as error:
        if not hasattr(error, "response"):
            raise  # not an AWS answer: a bug, which fails the invocation loudly
        message = str(error.response.get("Error", {}).get("Message", ""))  # type: ignore[attr-defined]
        return {"error": {"code": _code(error), "message": message}}


def _execute(
    command: Mapping[str, Any],
    *,
    clients: EstateClients,
    store: EstateStore,
    now: datetime,
    account: str,
    regions: tuple[str, ...],
    iam_path: str,
    alarm_topic_arn: str | None,
) -> dict[str, Any]:
    action = str(command.get("action", ""))
    spec = ACTIONS.get(action)
    if spec is None or action == REFRESH:
        raise CommandRefused(f"not an action of the management function: {action!r}")
    if command.get("account") != account:
        raise CommandRefused("the command names another account")
    name = str(command.get("name", ""))
    params: Mapping[str, Any] = command.get("parameters") or {}
    # IAM is global: it is called through the first managed region's endpoint.
    region = str(command.get("region", "")) if spec.family != "iam" else regions[0]
    if region not in regions:
        raise CommandRefused(f"region {region!r} is not managed")
    if spec.target == "metric-resource" and command.get("resourceArn"):
        return _resource_alarm(name, params, command, clients, region, alarm_topic_arn)
    if spec.target in ("function", "metric-resource"):
        return _function_action(
            action, name, params, command, clients, store, now, account, region, alarm_topic_arn
        )
    tag_key = str(command.get("ownerTagKey") or "Owner")
    return _user_action(
        action, name, params, clients, store, now, account, region, iam_path, tag_key
    )


# ---- Lambda and alarms -----------------------------------------------------------------------


def _function_action(
    action: str,
    name: str,
    params: Mapping[str, Any],
    command: Mapping[str, Any],
    clients: EstateClients,
    store: EstateStore,
    now: datetime,
    account: str,
    region: str,
    alarm_topic_arn: str | None,
) -> dict[str, Any]:
    before = readers.read_function(clients, region, name)
    if before is None:
        return {"error": {"code": "ResourceNotFoundException", "message": f"no function {name}"}}
    if action == "lambda:PutFunctionConcurrency":
        call(
            clients,
            region,
            "lambda",
            "put_function_concurrency",
            FunctionName=name,
            ReservedConcurrentExecutions=int(params["reservedConcurrency"]),
        )
    elif action == "lambda:DeleteFunctionConcurrency":
        call(clients, region, "lambda", "delete_function_concurrency", FunctionName=name)
    elif action == "lambda:UpdateFunctionConfiguration":
        changes = {}
        if "memory" in params:
            changes["MemorySize"] = int(params["memory"])
        if "timeout" in params:
            changes["Timeout"] = int(params["timeout"])
        call(
            clients, region, "lambda", "update_function_configuration", FunctionName=name, **changes
        )
    elif action == "lambda:TagResource":
        key = str(command.get("ownerTagKey") or "Owner")
        call(
            clients,
            region,
            "lambda",
            "tag_resource",
            Resource=before.arn,
            Tags={key: str(params["owner"])},
        )
    elif action == "cloudwatch:PutMetricAlarm":
        return _alarm(
            name,
            params,
            command,
            clients,
            region,
            alarm_topic_arn,
            before.arn,
            namespace="AWS/Lambda",
            dimensions=[{"Name": "FunctionName", "Value": name}],
        )
    after = readers.read_function(clients, region, name)
    scope = scope_of(account, region, "lambda")
    if after is None:
        store.delete(scope, f"function#{name}")
    else:
        store.put(scope, function_record(after, now))
    return {"before": to_document(before), "after": to_document(after) if after else None}


def _resource_alarm(
    name: str,
    params: Mapping[str, Any],
    command: Mapping[str, Any],
    clients: EstateClients,
    region: str,
    topic: str | None,
) -> dict[str, Any]:
    """An alarm on an EC2 instance, RDS DB instance or S3 bucket: its type, namespace and
    dimensions read here from its ARN (not taken from the command), its metric one of the
    type's panel metrics."""
    from tally.errors import Invalid
    from tally.estate.metrics import alarm_metrics, metric_dimensions, metric_spec, parse_resource

    try:
        resource = parse_resource(str(command.get("resourceArn")))
    except Invalid:
        raise CommandRefused("not the ARN of a resource with a metrics panel") from None
    if resource.kind == "lambda" or resource.name != name:
        raise CommandRefused("a function's alarm names the function; the ARN names another")
    if resource.region and resource.region != region:
        raise CommandRefused("the ARN's region is not the command's")
    if params.get("metric") not in alarm_metrics(resource.kind):
        raise CommandRefused(f"not a metric of a {resource.kind} resource")
    spec = metric_spec(resource.kind, str(params["metric"]))
    return _alarm(
        name,
        params,
        command,
        clients,
        region,
        topic,
        resource.arn,
        namespace=spec.namespace,
        dimensions=metric_dimensions(resource, spec),
    )


def _alarm(
    resource: str,
    params: Mapping[str, Any],
    command: Mapping[str, Any],
    clients: EstateClients,
    region: str,
    topic: str | None,
    resource_arn: str,
    *,
    namespace: str,
    dimensions: list[dict[str, str]],
) -> dict[str, Any]:
    if not topic:
        raise CommandRefused("no alarm topic is configured (TALLY_ESTATE_ALARM_TOPIC_ARN)")
    alarm = str(command.get("alarmName") or "")
    # The management role may put only alarms named tally-* (infra/constructs/management.py).
    if not alarm.startswith(f"tally-{resource}-"):
        raise CommandRefused("an alarm Tally makes is named tally-<resource>-...")
    owners = ",".join(str(o) for o in command.get("owners") or [])

    def read() -> dict[str, Any] | None:
        found = call(clients, region, "cloudwatch", "describe_alarms", AlarmNames=[alarm])
        alarms = found.get("MetricAlarms") or []
        return _alarm_document(alarms[0]) if alarms else None

    before = read()
    call(
        clients,
        region,
        "cloudwatch",
        "put_metric_alarm",
        AlarmName=alarm,
        # The alerts machinery reads the owners from here to notify them in Tally.
        AlarmDescription=f"Tally alarm on {resource_arn}; owners={owners}",
        Namespace=namespace,
        MetricName=str(params["metric"]),
        Dimensions=dimensions,
        Statistic=str(params["statistic"]),
        Period=int(params["periodSeconds"]),
        EvaluationPeriods=int(params["periods"]),
        Threshold=float(params["threshold"]),
        ComparisonOperator=str(params["comparison"]),
        TreatMissingData="notBreaching",
        AlarmActions=[topic],
        OKActions=[topic],
        Tags=[{"Key": "tally:owners", "Value": owners or "unowned"}],
    )
    return {"before": before, "after": read()}


def _alarm_document(raw: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "name": raw.get("AlarmName"),
        "metric": raw.get("MetricName"),
        "namespace": raw.get("Namespace"),
        "dimensions": [
            {"Name": d.get("Name"), "Value": d.get("Value")} for d in raw.get("Dimensions") or []
        ],
        "statistic": raw.get("Statistic"),
        "periodSeconds": raw.get("Period"),
        "periods": raw.get("EvaluationPeriods"),
        "threshold": str(raw.get("Threshold")),
        "comparison": raw.get("ComparisonOperator"),
        "actions": list(raw.get("AlarmActions") or []),
    }


# ---- IAM users -------------------------------------------------------------------------------


def _user_action(
    action: str,
    name: str,
    params: Mapping[str, Any],
    clients: EstateClients,
    store: EstateStore,
    now: datetime,
    account: str,
    region: str,
    iam_path: str,
    tag_key: str,
) -> dict[str, Any]:
    scope = scope_of(account, GLOBAL, "iam")
    if action == "iam:CreateUser":
        before = None
        tags = [{"Key": tag_key, "Value": str(params["owner"])}] if params.get("owner") else []
        # No password, no access key: credentials are never Tally's to make.
        call(clients, region, "iam", "create_user", UserName=name, Path=iam_path, Tags=tags)
        for group in params.get("groups") or []:
            call(clients, region, "iam", "add_user_to_group", GroupName=group, UserName=name)
    else:
        found = readers.read_user(clients, region, name)
        if found is None:
            return {"error": {"code": "NoSuchEntity", "message": f"no IAM user {name}"}}
        if not found.path.startswith(iam_path):
            raise CommandRefused(f"the user is outside the managed path {iam_path}")
        before = to_document(found)
        _change_user(action, name, params, found, clients, region)
    after = readers.read_user(clients, region, name)
    if after is None:
        store.delete(scope, f"user#{name}")
    else:
        store.put(scope, user_record(after, now))
    return {"before": before, "after": to_document(after) if after else None}


def _change_user(
    action: str,
    name: str,
    params: Mapping[str, Any],
    user: Any,
    clients: EstateClients,
    region: str,
) -> None:
    def iam(operation: str, **kwargs: Any) -> Any:
        return call(clients, region, "iam", operation, **kwargs)

    if action == "iam:UpdateAccessKey":
        iam(
            "update_access_key",
            UserName=name,
            AccessKeyId=params["accessKeyId"],
            Status=params["status"],
        )
    elif action == "iam:DeleteAccessKey":
        iam("delete_access_key", UserName=name, AccessKeyId=params["accessKeyId"])
    elif action == "iam:DeleteLoginProfile":
        iam("delete_login_profile", UserName=name)
    elif action == "iam:UpdateLoginProfile":
        # Only the reset flag: Tally never sets a password.
        iam("update_login_profile", UserName=name, PasswordResetRequired=True)
    elif action == "iam:AddUserToGroup":
        iam("add_user_to_group", GroupName=params["group"], UserName=name)
    elif action == "iam:RemoveUserFromGroup":
        iam("remove_user_from_group", GroupName=params["group"], UserName=name)
    elif action == "iam:DeleteUser":
        _delete_user(name, user, iam, clients, region)
    else:
        raise CommandRefused(f"not an IAM user action: {action}")


def _delete_user(name: str, user: Any, iam: Any, clients: EstateClients, region: str) -> None:
    """What DeleteUser needs removed first (IAM refuses a user that still has any of it), in
    the order the console removes them."""
    for key in user.access_keys:
        iam("delete_access_key", UserName=name, AccessKeyId=key.key_id)
    if user.console_access:
        iam("delete_login_profile", UserName=name)
    for serial in user.mfa_devices:
        iam("deactivate_mfa_device", UserName=name, SerialNumber=serial)
    for group in user.groups:
        iam("remove_user_from_group", GroupName=group, UserName=name)
    for policy in user.inline_policies:
        iam("delete_user_policy", UserName=name, PolicyName=policy)
    for arn in user.attached_policies:
        iam("detach_user_policy", UserName=name, PolicyArn=arn)
    # Not in the cache's model but also blocking: signing certificates and SSH keys. (A user
    # with service-specific credentials, for CodeCommit or Keyspaces, is refused by IAM with
    # DeleteConflict, answered 409: they are removed in the console, deliberately.)
    for page in pages(clients, region, "iam", "list_signing_certificates", UserName=name):
        for cert in page.get("Certificates", []):
            iam("delete_signing_certificate", UserName=name, CertificateId=cert["CertificateId"])
    for page in pages(clients, region, "iam", "list_ssh_public_keys", UserName=name):
        for key in page.get("SSHPublicKeys", []):
            iam("delete_ssh_public_key", UserName=name, SSHPublicKeyId=key["SSHPublicKeyId"])
    iam("delete_user", UserName=name)
