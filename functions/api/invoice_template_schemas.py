"""API models of invoice templates (``/api/invoice-templates``): kept apart from
``api.schemas`` so this area grows without meeting the others."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from api.schemas import ApiModel, Out, TeamId

TemplateId = Annotated[
    str,
    StringConstraints(pattern=r"^(org|team-[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?)$"),
]
Column = Literal["service", "resource", "quantity", "unit", "amount"]
Language = Literal["en", "de", "fr"]
ALL_COLUMNS: tuple[Column, ...] = ("service", "resource", "quantity", "unit", "amount")

_TEXT = (
    "text with {{ field }} placeholders (number, period, period_start, period_end, issued, "
    "subject, organisation, totals, provisional; filters upper, lower, title, capitalize, "
    "trim) and {% if field %} blocks, nothing else: anything else is 422 at save time"
)


class TemplateFieldsIn(ApiModel):
    name: str = Field(min_length=1, max_length=80, examples=["Acme invoices"])
    language: Language = Field(default="en", description="the language of the fixed labels")
    colours: dict[str, str] = Field(
        default_factory=dict,
        description="#rrggbb by name: accent, text, muted, rule, heading_fill, subtotal_fill, "
        "total_fill (the others keep the layout's)",
        examples=[{"accent": "#0b6e4f"}],
    )
    header: str = Field(default="", max_length=1000, description=_TEXT)
    footer: str = Field(default="", max_length=300, description=_TEXT)
    terms: str = Field(default="", max_length=2000, description=_TEXT)
    number_prefix: str | None = Field(
        default=None,
        max_length=12,
        description="numbering scheme: <prefix><YYYY>-<nnnnn>, a sequence per year; none: "
        "INV-<YYYYMM>-<hash>",
        examples=["ACME-"],
    )
    columns: list[Column] = Field(
        default_factory=lambda: list(ALL_COLUMNS),
        description="the itemised table's columns (amount and at least one other)",
    )
    logo: str | None = Field(
        default=None,
        max_length=140_000,
        description="base64 of a PNG or JPEG (checked by its bytes), at most 100 KiB; none: no "
        "logo (a PUT replaces the whole template: send the logo again to keep it)",
    )


class TemplateIn(TemplateFieldsIn):
    team_id: TeamId | None = Field(
        default=None, description="a team's template; none: the organisation's default"
    )


class TemplateUpdateIn(TemplateFieldsIn):
    version: int = Field(
        ge=1, description="the version you read: a newer one saved since is 409 (reload)"
    )


class LogoOut(Out):
    media_type: str = Field(examples=["image/png"])
    data: str = Field(description="base64")


class TemplateOut(Out):
    template_id: str = Field(examples=["org", "team-payments"])
    team_id: str | None
    version: int
    name: str
    language: str
    colours: dict[str, str]
    header: str
    footer: str
    terms: str
    number_prefix: str | None
    columns: list[str]
    logo: LogoOut | None
    created_at: str = Field(description="when this version was saved")
    created_by: str = Field(description="who saved this version (a user id)")


class TemplateSummaryOut(Out):
    template_id: str
    team_id: str | None
    version: int = Field(description="the latest version")
    name: str
    language: str
    number_prefix: str | None
    has_logo: bool
    created_at: str = Field(description="when the latest version was saved")
    created_by: str


class TemplateListOut(Out):
    items: list[TemplateSummaryOut] = Field(description="the organisation's first, then teams'")
