"""The local stack: Tally on one machine, with moto standing in for AWS.

``aws`` starts the moto server and creates what the CDK stack would create; ``gateway`` plays
API Gateway (Cognito authorizer + REST proxy integration) in front of the same Lambda handler;
``stack`` puts both together and writes ``.tally/local.json``; ``client`` signs in against it.
``python -m infra.local`` (``make run``) runs it until interrupted.
"""
