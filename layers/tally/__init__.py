"""Tally's domain package: what every Lambda function imports (shipped as a layer).

Layout: ``models`` (domain entities), ``errors`` (domain exceptions), ``access`` (who may see
what), ``assignments``/``budgets``/``reports`` (use cases), ``costs`` (allocation, roll-ups,
ingest), ``store`` (data access: DynamoDB and in-memory implementations behind small
interfaces), ``tables`` (the table definitions shared with CDK and the local stack).
"""
