"""API models of the estate's management actions (``POST /api/estate/actions``): kept apart
from ``api.schemas`` so the estate's read views and these actions grow without meeting."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field, StrictBool

from api.schemas import ApiModel, Money, Out


class EstateActionIn(ApiModel):
    action: str = Field(
        min_length=3,
        max_length=64,
        pattern=r"^[a-z]+:[A-Za-z]+$",
        description="the AWS API action, e.g. lambda:PutFunctionConcurrency, iam:DeleteUser, "
        "cloudwatch:PutMetricAlarm, or tally:RefreshInventory",
        examples=["lambda:PutFunctionConcurrency"],
    )
    target: str = Field(
        min_length=1,
        max_length=2048,
        description="the resource's name or ARN (a Lambda function, an IAM user); for "
        "cloudwatch:PutMetricAlarm also the ARN of an EC2 instance, RDS DB instance or S3 "
        "bucket, as GET /api/estate/metrics takes it (arn:aws:ec2:::instance/<id>: the "
        "deployment's first region); for iam:CreateUser the new user's name; for a region's "
        "refresh region:<name> (IAM, being global: region:global)",
        examples=["tally-demo-orders-sync"],
    )
    parameters: dict[str, Any] = Field(
        default_factory=dict,
        description="the action's parameters (see the user guide's table), e.g. "
        '{"reservedConcurrency": 0}',
    )
    preview: StrictBool = Field(
        default=True,
        description="true (the default): answer what would change and change nothing; "
        "false: perform it",
    )


class ChangeOut(Out):
    field: str
    before: Any = None
    after: Any = None


class SizingOut(Out):
    memory: int = Field(description="suggested memory (MB)")
    timeout: int = Field(description="suggested timeout (seconds)")
    reasons: list[str]
    monthly_cost_now: Money | None = Field(
        default=None, description="30 days at the cached rate of use, at the current memory"
    )
    monthly_cost_suggested: Money | None = Field(
        default=None, description="the same at the suggested memory"
    )
    monthly_cost_requested: Money | None = Field(
        default=None, description="the same at the memory this request asks for"
    )
    assumption: str


class EstateActionOut(Out):
    action: str
    target: str
    arn: str | None
    region: str
    preview: bool
    owners: list[str] = Field(description="the resource's Tally owners (empty: unowned)")
    changes: list[ChangeOut]
    removes: list[str] = Field(
        description="iam:DeleteUser: what the deletion removes first (accessKey:<id>, "
        "loginProfile, mfaDevice:<serial>, group:<name>, inlinePolicy:<name>, "
        "attachedPolicy:<arn>)"
    )
    sizing: SizingOut | None = None
    before: dict[str, Any] | None = Field(
        default=None, description="performed: the resource as read just before the change"
    )
    after: dict[str, Any] | None = Field(
        default=None, description="performed: the resource as read just after (now cached)"
    )
    performed_at: datetime | None = None
    notified: list[str] = Field(
        default_factory=list, description="owners told in the app (everyone but the caller)"
    )
