"""The HTTPS API's Lambda function (API Gateway REST -> Powertools resolver)."""
