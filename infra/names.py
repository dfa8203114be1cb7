"""Names the CDK stack and the local stack (``infra/local``) both use, so they cannot drift.

Table keys, indexes and Cognito groups live in ``tally.tables``; this module holds the rest.
"""

from __future__ import annotations

from tally.tables import ADMIN_GROUP, USER_GROUP

# SNS topics are named "<stack or prefix>-<key>".
ADMIN_ALERTS_TOPIC = "admin-alerts"
OPERATIONS_TOPIC = "operations"
# SES bounces and complaints for the alerts function (deployed only: moto's SES sends none).
EMAIL_FEEDBACK_TOPIC = "email-feedback"
# The alarms the estate's actions create notify it (issue 15); the alerts function reads it.
ESTATE_ALARMS_TOPIC = "estate-alarms"

# Cognito: the password policy the issue asks for (at least 12 characters, all four classes).
PASSWORD_MIN_LENGTH = 12
TEMPORARY_PASSWORD_VALIDITY_DAYS = 7
# Lower precedence wins when a user is in both groups.
GROUP_PRECEDENCE = {ADMIN_GROUP: 0, USER_GROUP: 10}

# The functions' Powertools settings.
METRICS_NAMESPACE = "Tally"
