"""The fixed words of an invoice in each language a template may choose: every label of
``templates/invoice/layout.json`` and the itemised table's column titles, nothing else (the
organisation's own words are the template's header, footer and terms).

English is the layout's own labels (the catalogue repeats them so a template in English reads
the same whatever the layout file says later). ``{...}`` fields are filled by the renderer.
"""

from __future__ import annotations

from typing import Any

LANGUAGES = ("en", "de", "fr")

COLUMN_TITLES: dict[str, dict[str, str]] = {
    "en": {
        "service": "Service",
        "resource": "Resource",
        "quantity": "Usage",
        "unit": "Unit",
        "amount": "Amount",
    },
    "de": {
        "service": "Dienst",
        "resource": "Ressource",
        "quantity": "Nutzung",
        "unit": "Einheit",
        "amount": "Betrag",
    },
    "fr": {
        "service": "Service",
        "resource": "Ressource",
        "quantity": "Utilisation",
        "unit": "Unité",
        "amount": "Montant",
    },
}

LABELS: dict[str, dict[str, Any]] = {
    "en": {
        "title": "Invoice",
        "number": "Invoice number",
        "issued": "Issue date",
        "period": "Billing period",
        "bill_to": "Bill to",
        "cost_center": "Cost center",
        "metric": "Amounts",
        "metric_effective": "effective cost (amortized)",
        "metric_billed": "billed cost (unblended)",
        "currency_section": "Amounts in {currency}",
        "no_resource": "(no resource)",
        "subtotal": "Subtotal {service}",
        "usage_total": "Usage total",
        "charges": "Credits, refunds, taxes and other charges",
        "total": "Total",
        "budget": "Budget for {period}",
        "variance_under": "Under budget by",
        "variance_over": "Over budget by",
        "no_costs": "No costs in this period.",
        "provisional_mark": "PROVISIONAL",
        "provisional_note": "Provisional: AWS may still revise this month's costs. A revised "
        "invoice keeps this number with a revision suffix.",
        "final_note": "Final: this month's costs are settled.",
        "page": "Page {page} of {pages}",
        "continued": "{org} · Invoice {number} (continued)",
        "terms": "Terms",
        "categories": {
            "Credit": "Credit",
            "Refund": "Refund",
            "Tax": "Tax",
            "Purchase": "Purchase",
            "Adjustment": "Adjustment",
        },
    },
    "de": {
        "title": "Rechnung",
        "number": "Rechnungsnummer",
        "issued": "Rechnungsdatum",
        "period": "Abrechnungszeitraum",
        "bill_to": "Rechnung an",
        "cost_center": "Kostenstelle",
        "metric": "Beträge",
        "metric_effective": "effektive Kosten (amortisiert)",
        "metric_billed": "abgerechnete Kosten (ungemischt)",
        "currency_section": "Beträge in {currency}",
        "no_resource": "(keine Ressource)",
        "subtotal": "Zwischensumme {service}",
        "usage_total": "Nutzung gesamt",
        "charges": "Gutschriften, Erstattungen, Steuern und sonstige Posten",
        "total": "Gesamt",
        "budget": "Budget für {period}",
        "variance_under": "Unter Budget um",
        "variance_over": "Über Budget um",
        "no_costs": "Keine Kosten in diesem Zeitraum.",
        "provisional_mark": "VORLÄUFIG",
        "provisional_note": "Vorläufig: AWS kann die Kosten dieses Monats noch ändern. Eine "
        "geänderte Rechnung behält diese Nummer mit einem Revisionszusatz.",
        "final_note": "Endgültig: Die Kosten dieses Monats stehen fest.",
        "page": "Seite {page} von {pages}",
        "continued": "{org} · Rechnung {number} (Fortsetzung)",
        "terms": "Bedingungen",
        "categories": {
            "Credit": "Gutschrift",
            "Refund": "Erstattung",
            "Tax": "Steuer",
            "Purchase": "Kauf",
            "Adjustment": "Korrektur",
        },
    },
    "fr": {
        "title": "Facture",
        "number": "Numéro de facture",
        "issued": "Date d'émission",
        "period": "Période de facturation",
        "bill_to": "Facturé à",
        "cost_center": "Centre de coûts",
        "metric": "Montants",
        "metric_effective": "coût effectif (amorti)",
        "metric_billed": "coût facturé (non mélangé)",
        "currency_section": "Montants en {currency}",
        "no_resource": "(aucune ressource)",
        "subtotal": "Sous-total {service}",
        "usage_total": "Total de l'utilisation",
        "charges": "Crédits, remboursements, taxes et autres frais",
        "total": "Total",
        "budget": "Budget pour {period}",
        "variance_under": "Sous le budget de",
        "variance_over": "Au-dessus du budget de",
        "no_costs": "Aucun coût sur cette période.",
        "provisional_mark": "PROVISOIRE",
        "provisional_note": "Provisoire : AWS peut encore réviser les coûts de ce mois. Une "
        "facture révisée garde ce numéro avec un suffixe de révision.",
        "final_note": "Définitive : les coûts de ce mois sont arrêtés.",
        "page": "Page {page} sur {pages}",
        "continued": "{org} · Facture {number} (suite)",
        "terms": "Conditions",
        "categories": {
            "Credit": "Crédit",
            "Refund": "Remboursement",
            "Tax": "Taxe",
            "Purchase": "Achat",
            "Adjustment": "Ajustement",
        },
    },
}
