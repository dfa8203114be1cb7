"""What an invoice template changes in the PDF: colours, the fixed labels' language, the
itemised table's columns, the logo, and the organisation's own header, footer and terms
(already rendered: ``tally.invoice_templates`` fills their placeholders).

Applied to the layout (``InvoiceStyle.apply``) so the renderer reads one layout either way;
an invoice without a template renders exactly as before.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tally.invoices.pdf import Layout

# Where ``apply`` puts the texts and the logo in the layout's raw document.
TEXTS, LOGO = "template_texts", "template_logo"
# Millimetres the bottom margin grows by for a template's footer (two short lines).
FOOTER_ROOM = 8


@dataclass(frozen=True)
class InvoiceStyle:
    colours: Mapping[str, str] = field(default_factory=dict)  # layout colour name -> #rrggbb
    labels: Mapping[str, Any] = field(default_factory=dict)  # layout labels, one language
    column_titles: Mapping[str, str] = field(default_factory=dict)  # column key -> title
    columns: tuple[str, ...] | None = None  # the column keys shown; None: all
    logo: bytes | None = None  # PNG or JPEG; replaces TALLY_ORG_LOGO
    header: str = ""
    footer: str = ""
    terms: str = ""

    def apply(self, layout: Layout) -> Layout:
        from tally.invoices.pdf import Layout

        raw = copy.deepcopy(layout.raw)
        raw["colours"].update(self.colours)
        raw["labels"].update(self.labels)
        shown = [c for c in raw["columns"] if self.columns is None or c["key"] in self.columns]
        for column in shown:
            column["title"] = self.column_titles.get(column["key"], column["title"])
        raw["columns"] = shown
        if self.footer:
            raw["margins"]["bottom"] += FOOTER_ROOM
        raw[TEXTS] = {"header": self.header, "footer": self.footer, "terms": self.terms}
        raw[LOGO] = self.logo
        return Layout(layout.directory, raw)
