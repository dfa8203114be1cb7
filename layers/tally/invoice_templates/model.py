"""An invoice template as the domain sees it: what a version says, and the version itself.

A template belongs to a scope: the organisation (its default, id ``org``) or one team (id
``team-<teamId>``), one template per scope. Every change is a new, immutable version (1, 2,
...); an invoice records the version it was rendered with, so it renders the same for good.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

ORG_TEMPLATE = "org"
TEAM_PREFIX = "team-"

# The itemised table's columns, in the layout's order; the amount is always shown.
COLUMNS = ("service", "resource", "quantity", "unit", "amount")
REQUIRED_COLUMNS = frozenset({"amount"})
# The layout colours a template may set (templates/invoice/layout.json "colours").
COLOURS = ("accent", "text", "muted", "rule", "heading_fill", "subtotal_fill", "total_fill")

LOGO_MAX_BYTES = 100 * 1024
LOGO_TYPES = ("image/png", "image/jpeg")


def template_id_of(team_id: str | None) -> str:
    """The template id of a scope: ``org``, or ``team-<teamId>``."""
    return ORG_TEMPLATE if team_id is None else f"{TEAM_PREFIX}{team_id}"


def team_of(template_id: str) -> str | None:
    return template_id.removeprefix(TEAM_PREFIX) if template_id != ORG_TEMPLATE else None


@dataclass(frozen=True)
class Logo:
    data: bytes
    media_type: str  # one of LOGO_TYPES, read from the bytes' signature


@dataclass(frozen=True)
class TemplateContent:
    """What one version says. Texts are stored as typed (placeholders unrendered)."""

    name: str
    language: str = "en"
    colours: Mapping[str, str] = field(default_factory=dict)  # name -> #rrggbb
    header: str = ""
    footer: str = ""
    terms: str = ""
    number_prefix: str | None = None  # None: the default numbering (INV-YYYYMM-<hash>)
    columns: tuple[str, ...] = COLUMNS
    logo: Logo | None = None


@dataclass(frozen=True)
class InvoiceTemplate:
    """Version ``version`` of template ``template_id``: immutable once saved."""

    template_id: str
    version: int
    content: TemplateContent
    created_at: datetime
    created_by: str  # the user id who saved this version

    @property
    def team_id(self) -> str | None:
        return team_of(self.template_id)
