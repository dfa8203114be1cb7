"""Payments: how an internal invoice or a month's chargeback gets settled.

- ``port``: the payments port (``InvoicePayments``: issue an invoice to a provider, read its
  status from the provider's events) and the status an invoice's payment has;
- ``journal``: the internal chargeback journal, a balanced double-entry ledger export of the
  month's chargeback for accounting systems (CSV and JSON);
- ``stripe``: the Stripe adapter of the port (the ``stripe`` package, loaded on first use) and
  its webhook's signature check;
- ``webhook``: a provider's event applied to Tally's records exactly once.

Stripe is off unless configured (``TALLY_PAYMENTS=stripe``): docs/deploy.md.
"""
