"""The alerts Lambda function: CostsIngested (EventBridge), its SQS fan-out, the hourly
drain of deferred emails and SES feedback (SNS) -> ``tally.alerts.evaluate``."""
