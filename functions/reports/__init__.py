"""The reports Lambda function: export and invoice jobs from the reports queue (SQS), and the
recommendations refresh after each ingest (EventBridge ``CostsIngested``) and once a day."""
