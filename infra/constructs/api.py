"""The HTTPS API: API Gateway REST in front of the API function, Cognito on every method but
two public paths.

Everything under ``/api/{proxy+}`` goes to one function (Powertools routes inside it); the
gateway authenticates, validates, throttles, logs, and answers its own errors in the same
problem+json shape the function uses. ``/api/unsubscribe`` (GET, POST) is the exception: the
digest's one-click unsubscribe link, followed from a mail client without a Cognito token and
authorised by the signed token it carries (``api.handler.PUBLIC_PATHS``); ``GET /api/health``
is the other, for uptime checks (no data).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from api.problems import CONTENT_TYPE as PROBLEM_CONTENT_TYPE
from api.problems import problem
from infra import nag
from infra.constructs import waf
from infra.constructs.data import Access, Data
from infra.constructs.lambda_factory import FunctionRuntime, log_retention
from tally.estate.ownership import owners_scope
from tally.resource_types import RESOURCE_TYPES
from tally.store.estate import partition_key

STAGE_NAME = "prod"
# The public resource under /api and the methods it has (api.routes.unsubscribe).
UNSUBSCRIBE_RESOURCE = "unsubscribe"
UNSUBSCRIBE_METHODS = ("GET", "POST")
# The uptime check's resource under /api (api.routes.health): GET only, without a token.
HEALTH_RESOURCE = "health"
CORS_ALLOW_HEADERS = ["Authorization", "Content-Type", "If-Match", "If-None-Match"]
ACCESS_CACHE_SECONDS = 60
# The estate cache's owners partitions, every account's (ESTATE#<account>#global#owners): the
# only items the API writes in the estate table.
OWNERS_PARTITIONS = partition_key(owners_scope("*"))
# The metrics panel's reads (one GetMetricData per panel, the region's alarms).
METRICS_ACTIONS = ("cloudwatch:DescribeAlarms", "cloudwatch:GetMetricData")
CORS_ALLOW_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


@dataclass(frozen=True)
class GatewayProblem:
    response_type: apigateway.ResponseType
    status: int
    detail: str | None = None  # None: API Gateway's own message ($context.error.messageString)


# Every response API Gateway makes itself, with the status it answers; the DEFAULT_* entries
# only catch types added to API Gateway after this list was written.
GATEWAY_PROBLEMS = (
    GatewayProblem(apigateway.ResponseType.UNAUTHORIZED, 401),
    GatewayProblem(apigateway.ResponseType.ACCESS_DENIED, 403),
    GatewayProblem(apigateway.ResponseType.EXPIRED_TOKEN, 403),
    GatewayProblem(apigateway.ResponseType.INVALID_SIGNATURE, 403),
    GatewayProblem(apigateway.ResponseType.INVALID_API_KEY, 403),
    GatewayProblem(apigateway.ResponseType.WAF_FILTERED, 403),
    # API Gateway says "Missing Authentication Token" for a path it has no resource for; with
    # a Cognito authorizer on every method that only happens outside /api, so say "not found".
    GatewayProblem(apigateway.ResponseType.MISSING_AUTHENTICATION_TOKEN, 404, "No such resource."),
    GatewayProblem(apigateway.ResponseType.RESOURCE_NOT_FOUND, 404),
    GatewayProblem(apigateway.ResponseType.BAD_REQUEST_PARAMETERS, 400),
    GatewayProblem(apigateway.ResponseType.BAD_REQUEST_BODY, 400),
    GatewayProblem(apigateway.ResponseType.REQUEST_TOO_LARGE, 413),
    GatewayProblem(apigateway.ResponseType.UNSUPPORTED_MEDIA_TYPE, 415),
    GatewayProblem(apigateway.ResponseType.THROTTLED, 429),
    GatewayProblem(apigateway.ResponseType.QUOTA_EXCEEDED, 429),
    GatewayProblem(apigateway.ResponseType.AUTHORIZER_FAILURE, 500),
    GatewayProblem(apigateway.ResponseType.AUTHORIZER_CONFIGURATION_ERROR, 500),
    GatewayProblem(apigateway.ResponseType.API_CONFIGURATION_ERROR, 500),
    GatewayProblem(apigateway.ResponseType.INTEGRATION_FAILURE, 502),
    GatewayProblem(apigateway.ResponseType.INTEGRATION_TIMEOUT, 504),
    GatewayProblem(apigateway.ResponseType.DEFAULT_4_XX, 400),
    GatewayProblem(apigateway.ResponseType.DEFAULT_5_XX, 500),
)

# One JSON object per request; the caller's Cognito sub makes a request traceable to a person.
ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId",
    "extendedRequestId": "$context.extendedRequestId",
    "requestTime": "$context.requestTime",
    "ip": "$context.identity.sourceIp",
    "userAgent": "$context.identity.userAgent",
    "httpMethod": "$context.httpMethod",
    "path": "$context.path",
    "resourcePath": "$context.resourcePath",
    "status": "$context.status",
    "responseLength": "$context.responseLength",
    "responseLatencyMs": "$context.responseLatency",
    "integrationLatencyMs": "$context.integration.latency",
    "integrationStatus": "$context.integration.status",
    "sub": "$context.authorizer.claims.sub",
    "errorType": "$context.error.responseType",
    "errorMessage": "$context.error.message",
    "xrayTraceId": "$context.xrayTraceId",
}


def problem_template(status: int, detail: str | None) -> str:
    """The mapping template of a gateway response: the body the API function would send.

    ``type`` and ``title`` come from ``api.problems``, the one place problems are built.
    """
    body = json.loads(problem(status, "-").body or "{}")
    body["detail"] = "@DETAIL@"
    # messageString is API Gateway's message already quoted as a JSON string.
    detail_json = json.dumps(detail) if detail else "$context.error.messageString"
    return json.dumps(body).replace('"@DETAIL@"', detail_json)


class Api(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        runtime: FunctionRuntime,
        data: Data,
        user_pool: cognito.IUserPool,
        app_clients: list[cognito.IUserPoolClient],
        allowed_origin: str,
        throttle_rate: int,
        throttle_burst: int,
        enable_waf: bool,
        waf_rate_limit: int,
        log_retention_days: int,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)

        # The HMAC keys of pagination tokens: JSON {"current": ..., "previous": ...}, generated
        # inside AWS so a key never exists on a laptop or in the template. The function reads
        # it at cold start (tally.settings, cached for minutes, so a rotation needs no deploy);
        # its configuration holds only the ARN.
        self.page_token_secret = secretsmanager.Secret(
            self,
            "PageTokenKeys",
            description="Tally: HMAC keys for pagination tokens (rotating them: docs/deploy.md)",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template="{}",  # noqa: S106 - an empty JSON object
                generate_string_key="current",
                password_length=64,
                exclude_punctuation=True,
            ),
        )
        nag.acknowledge(
            self.page_token_secret,
            "AwsSolutions-SMG4",
            "Secrets Manager's scheduled rotation needs a rotation function of its own for a "
            "key that is not a database credential; the keys only sign pagination tokens, and "
            "docs/deploy.md rotates them by hand (put-secret-value with the new key current "
            "and the old one previous), which the API takes within minutes without a deploy.",
        )
        api_function = runtime.new_function(
            self,
            "Function",
            handler="api.handler.lambda_handler",
            service="api",
            description="Tally API: assignments, budgets, costs (API Gateway proxy)",
            # More memory is more CPU: a faster cold start for a user who is waiting.
            memory_size=1024,
            # Below API Gateway's 29-second integration timeout, so the caller gets our error.
            timeout=Duration.seconds(25),
            environment={
                "TALLY_USER_POOL_ID": user_pool.user_pool_id,
                # The authorizer accepts any client of the pool; the handler binds these.
                "TALLY_APP_CLIENT_IDS": ",".join(c.user_pool_client_id for c in app_clients),
                "TALLY_DASHBOARD_ORIGIN": allowed_origin,
                "TALLY_PAGE_TOKEN_SECRET_ID": self.page_token_secret.secret_arn,
                # How long a warm container keeps roles and teams: a revoked role stops
                # working within this time (the issue allows at most five minutes).
                "TALLY_ACCESS_CACHE_SECONDS": str(ACCESS_CACHE_SECONDS),
            },
        )
        self.function = api_function.function
        nag.acknowledge(
            self.function,
            "Serverless-LambdaDLQ",
            "API Gateway invokes this function synchronously and returns its errors to the "
            "caller; a dead-letter queue only ever receives asynchronous invocations.",
        )
        data.grant(
            self.function,
            Access.READ_WRITE,
            ["users", "assignments", "budgets", "claims", "notifications", "preferences"],
        )
        # Append-only: no route changes or deletes an audit entry. Auditors read it: one
        # subject's entries (the table) or everyone's newest first (the sparse "all" index).
        data.grant(self.function, Access.APPEND, ["audit"])
        audit = data.tables["audit"].table_arn
        self.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["dynamodb:Query"],
                resources=[
                    audit,
                    *(f"{audit}/index/{ix.name}" for ix in data.specs["audit"].indexes),
                ],
            )
        )
        # Teams, roles and grants: every decision reads the snapshot and the profiles (cached
        # in the warm container for TALLY_ACCESS_CACHE_SECONDS); changes are transactions.
        data.grant(self.function, Access.READ_WRITE, ["access"])
        data.grant(self.function, Access.READ, ["costs", "rollups", "recommendations"])
        # The estate's views read the inventory's cache (tally.estate.views); an assignment's
        # write recomputes that function's cached owners (tally.estate.ownership), so the API
        # puts items in the owners partitions only (ESTATE#<account>#global#owners), never in
        # a family the inventory read from AWS.
        data.grant(self.function, Access.READ, ["estate"])
        self.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["dynamodb:PutItem"],
                resources=[data.tables["estate"].table_arn],
                conditions={
                    "ForAllValues:StringLike": {"dynamodb:LeadingKeys": [OWNERS_PARTITIONS]}
                },
            )
        )
        self._grant_estate_metrics(api_function.role)
        # Anomalies: listed, and their status changed (acknowledged, resolved).
        data.grant(self.function, Access.READ_WRITE, ["anomalies"])
        # The per-user rate limits (tally.ratelimit): only conditional UpdateItems, never a read.
        self.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["dynamodb:UpdateItem"], resources=[data.tables["ratelimits"].table_arn]
            )
        )
        # Only the API signs page tokens; GetSecretValue alone, not CDK's grant_read (which
        # adds DescribeSecret).
        api_function.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["secretsmanager:GetSecretValue"],
                resources=[self.page_token_secret.secret_arn],
            )
        )
        # ListUsers finds a user by sub; AdminListGroupsForUser tells an admin from a user.
        user_pool.grant(
            self.function, "cognito-idp:ListUsers", "cognito-idp:AdminListGroupsForUser"
        )
        self._grant_resource_validation(api_function.role)

        access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=log_retention(log_retention_days),
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.rest_api = apigateway.RestApi(
            self,
            "RestApi",
            rest_api_name=f"{stack.stack_name}-api",
            description="Tally HTTPS API",
            endpoint_types=[apigateway.EndpointType.REGIONAL],
            # The invoice template preview answers a PDF (base64 from the handler): API Gateway
            # returns it as bytes to a client that sends Accept: application/pdf.
            binary_media_types=["application/pdf"],
            # Execution logging needs the account's API Gateway CloudWatch role; RETAIN because
            # it is an account-wide setting other APIs may rely on after this stack is gone.
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN,
            deploy_options=apigateway.StageOptions(
                stage_name=STAGE_NAME,
                tracing_enabled=True,
                logging_level=apigateway.MethodLoggingLevel.ERROR,
                # Full request/response logging would copy emails and amounts into logs.
                data_trace_enabled=False,
                throttling_rate_limit=throttle_rate,
                throttling_burst_limit=throttle_burst,
                access_log_destination=apigateway.LogGroupLogDestination(access_logs),
                access_log_format=apigateway.AccessLogFormat.custom(
                    json.dumps(ACCESS_LOG_FORMAT, separators=(",", ":"))
                ),
            ),
            default_cors_preflight_options=apigateway.CorsOptions(
                allow_origins=[allowed_origin],
                allow_methods=CORS_ALLOW_METHODS,
                allow_headers=CORS_ALLOW_HEADERS,
                max_age=Duration.hours(1),
            ),
        )
        nag.acknowledge_managed_policy(
            self.rest_api.node.find_child("CloudWatchRole"),
            iam.ManagedPolicy.from_aws_managed_policy_name(
                "service-role/AmazonAPIGatewayPushToCloudWatchLogs"
            ),
            "The account-level role API Gateway uses for execution logs serves every REST API "
            "in the account and region, so it cannot be scoped to this one; this AWS managed "
            "policy exists for exactly that role and only writes CloudWatch Logs.",
        )
        self.stage = self.rest_api.deployment_stage
        self.url = self.rest_api.url_for_path("/api")

        authorizer = apigateway.CognitoUserPoolsAuthorizer(
            self,
            "Authorizer",
            cognito_user_pools=[user_pool],
            identity_source=apigateway.IdentitySource.header("Authorization"),
            results_cache_ttl=Duration.minutes(5),
        )
        # Bodies are validated by the function against its pydantic models (with field-level
        # problem+json errors); the gateway checks what it can know: the required parameters.
        validator = self.rest_api.add_request_validator(
            "Validator", validate_request_body=True, validate_request_parameters=True
        )
        api_root = self.rest_api.root.add_resource("api")
        proxy = api_root.add_resource("{proxy+}")
        proxy.add_method(
            "ANY",
            apigateway.LambdaIntegration(self.function, proxy=True),
            authorizer=authorizer,
            authorization_type=apigateway.AuthorizationType.COGNITO,
            request_validator=validator,
            request_parameters={
                "method.request.path.proxy": True,
                "method.request.header.Authorization": True,
            },
        )

        # A literal resource wins over {proxy+} for its own path, so only these two methods
        # of this one path skip the authorizer; any other method on it is API Gateway's 404.
        # The function answers a missing or bad token itself (422 on token), with a page.
        self.api_root = api_root
        public = self.add_public_method
        unsubscribe = api_root.add_resource(UNSUBSCRIBE_RESOURCE)
        for method in UNSUBSCRIBE_METHODS:
            public(
                unsubscribe,
                method,
                "The digest's one-click unsubscribe link (RFC 8058) is followed from a mail "
                "client, which has no Cognito token: a signed, expiring, user-bound token in "
                "the link authorises it instead, verified by the function before anything "
                "changes; it can only turn that user's digest off. Every other method and "
                "path keeps the Cognito authorizer.",
            )
        # Uptime checkers (Route 53 health checks, external monitors) hold no Cognito token.
        public(
            api_root.add_resource(HEALTH_RESOURCE),
            "GET",
            "The uptime check (GET /api/health) is called by monitors that hold no Cognito "
            "token; it answers only a fixed status and the code version, reads no table and "
            "takes no input, so there is nothing to authorise. The stage throttling and the "
            "WAF rate rule (enableWaf) bound what anonymous callers can cost; every other "
            "path keeps the Cognito authorizer.",
        )

        cors_headers = {"Access-Control-Allow-Origin": f"'{allowed_origin}'", "Vary": "'Origin'"}
        for gateway_problem in GATEWAY_PROBLEMS:
            self.rest_api.add_gateway_response(
                f"Problem{gateway_problem.response_type.response_type}",
                type=gateway_problem.response_type,
                status_code=str(gateway_problem.status),
                response_headers={
                    "Content-Type": f"'{PROBLEM_CONTENT_TYPE}'",
                    **cors_headers,
                },
                templates={
                    "application/json": problem_template(
                        gateway_problem.status, gateway_problem.detail
                    )
                },
            )

        if enable_waf:
            self.web_acl: wafv2.CfnWebACL | None = waf.web_acl(
                self,
                "WebAcl",
                waf_scope="REGIONAL",
                metric_name="tally-api",
                rate_limit=waf_rate_limit,
                managed_rules=waf.API_MANAGED_RULES,
            )
            wafv2.CfnWebACLAssociation(
                self,
                "WebAclAssociation",
                resource_arn=self.stage.stage_arn,
                web_acl_arn=self.web_acl.attr_arn,
            )
        else:
            self.web_acl = None
            nag.acknowledge(
                self.stage,
                "AwsSolutions-APIG3",
                "AWS WAF is optional (about 9 USD a month plus requests): set the enableWaf "
                "context value to attach a web ACL with AWS managed rules and a per-IP rate "
                "limit. Every method already requires a Cognito token and the stage throttles.",
            )

    def add_public_method(
        self, resource: apigateway.IResource, method: str, reason: str
    ) -> apigateway.Method:
        """``method`` on ``resource`` without the Cognito authorizer, for ``reason``."""
        added = resource.add_method(
            method,
            apigateway.LambdaIntegration(self.function, proxy=True),
            authorization_type=apigateway.AuthorizationType.NONE,
        )
        nag.acknowledge(added, "AwsSolutions-APIG4", reason)
        nag.acknowledge(added, "AwsSolutions-COG4", reason)
        return added

    def _grant_estate_metrics(self, role: iam.IRole) -> None:
        """The estate's metrics panel and a function's recent errors (tally.estate.metrics):
        CloudWatch reads, and FilterLogEvents on Lambda's log groups only."""
        stack = Stack.of(self)
        lambda_logs = f"arn:{stack.partition}:logs:*:{stack.account}:log-group:/aws/lambda/*"
        policy = iam.Policy(
            self,
            "EstateMetricsReads",
            statements=[
                iam.PolicyStatement(actions=list(METRICS_ACTIONS), resources=["*"]),
                iam.PolicyStatement(actions=["logs:FilterLogEvents"], resources=[lambda_logs]),
            ],
        )
        policy.attach_to_role(role)
        nag.acknowledge(
            policy,
            "AwsSolutions-IAM5[Resource::*]",
            "cloudwatch:GetMetricData and cloudwatch:DescribeAlarms take no resource ARN (AWS "
            "Service Authorization Reference: GetMetricData has no resource type; DescribeAlarms "
            "lists the region's alarms): read-only, the panel filters to the caller's resource.",
        )
        nag.acknowledge_wildcard_resources(
            policy,
            [lambda_logs],
            "A function's detail shows its recent errors: FilterLogEvents on the log group "
            "Lambda writes for it (/aws/lambda/<name>), in any of the estate's regions; "
            "read-only, and no other log group (the API's own logs stay out of reach).",
        )

    def _grant_resource_validation(self, role: iam.IRole) -> None:
        """Read-only checks that a resource a user assigns exists, and who its owner tag
        names (validated by the domain): each registered resource type's permissions."""
        stack = Stack.of(self)
        statements = [
            (
                permission.actions,
                permission.resource.format(
                    partition=stack.partition, region=stack.region, account=stack.account
                ),
            )
            for resource_type in RESOURCE_TYPES
            for permission in resource_type.permissions
        ]
        policy = iam.Policy(
            self,
            "ResourceValidation",
            statements=[
                iam.PolicyStatement(actions=list(actions), resources=[resource])
                for actions, resource in statements
            ],
        )
        policy.attach_to_role(role)
        nag.acknowledge_wildcard_resources(
            policy,
            sorted({resource for _, resource in statements}),
            "Users assign resources of any name in this account, so the function checks that "
            "the named instance, database, function or bucket exists: read-only describe calls, "
            "scoped to this account and region where the service allows it (EC2 "
            "DescribeInstances allows no resource scope; S3 bucket ARNs carry no account).",
        )
