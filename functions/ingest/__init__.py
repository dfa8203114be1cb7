"""The daily cost ingest's Lambda function (EventBridge Scheduler -> here)."""
