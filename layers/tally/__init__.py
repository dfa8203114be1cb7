"""Tally's domain package: what every Lambda function imports (shipped as a layer).

Layout (docs/architecture.md has the whole map): ``models`` (entities, ``Metric``),
``view`` (what a use case sees of a request), ``calendar`` and ``clock`` (months and the one
clock), ``errors`` (domain exceptions), ``access`` (who may see or do what),
``assignments``/``budgets``/``claims`` (use cases), ``reports`` (read models, from
roll-ups and, for cost lines, records), ``forecast`` (month-end projections), ``ingest``,
``allocation``, ``rollups`` and ``sources`` (the write side), ``resource_types`` (the
registry of resource types), ``events`` (what the ingest announces), ``settings``, ``store``
(data access: one module per stored aggregate, DynamoDB and in-memory implementations behind
one Protocol each) and ``tables`` (the table definitions shared with CDK and the local stack).
"""
