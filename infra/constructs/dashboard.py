"""The dashboard: a private bucket behind CloudFront with origin access control, the built
site deployed into it with its runtime configuration, and a strict Content-Security-Policy.

The distribution's origin is what the API's CORS configuration allows and nothing else. The
site is deployed by ``deploy_site`` once the API and the user pool exist: config.json names
them, and the policy's connect-src is narrowed to exactly that API and Cognito (the API's
origin is known only after the distribution exists, since the API allows the distribution's
origin).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

from infra import nag
from infra.constructs.lambda_factory import log_retention
from infra.dashboard_site import (
    ASSETS_CACHE_CONTROL,
    CONFIG_FILE,
    INDEX_FILE,
    SITE_DIR,
    built_site,
    content_security_policy,
    runtime_config,
)

# Hashed bundles never change under their name; index.html, config.json and the icon do.
IMMUTABLE = ASSETS_CACHE_CONTROL
ASSETS_DIR = "assets"
HSTS_MAX_AGE = Duration.days(730)
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"


class Dashboard(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        access_logs: s3.IBucket,
        domain_name: str | None,
        certificate_arn: str | None,
        web_acl_arn: str | None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.bucket = s3.Bucket(
            self,
            "Site",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="s3/dashboard/",
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.headers_policy = cloudfront.ResponseHeadersPolicy(
            self,
            "Headers",
            comment="Tally dashboard: strict Content-Security-Policy and security headers",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    # Until deploy_site names the API, the page may call nothing else.
                    content_security_policy=content_security_policy([]),
                    override=True,
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.NO_REFERRER, override=True
                ),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=HSTS_MAX_AGE, include_subdomains=True, override=True
                ),
            ),
            custom_headers_behavior=cloudfront.ResponseCustomHeadersBehavior(
                custom_headers=[
                    cloudfront.ResponseCustomHeader(
                        header="Permissions-Policy", value=PERMISSIONS_POLICY, override=True
                    )
                ]
            ),
        )
        custom_domain = bool(domain_name and certificate_arn)
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment="Tally dashboard",
            default_root_object="index.html",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=self.headers_policy,
                compress=True,
            ),
            # A single-page app owns its paths: unknown keys (403 from a private bucket, 404)
            # serve the app, which shows its own "not found".
            error_responses=[
                cloudfront.ErrorResponse(
                    http_status=status,
                    response_http_status=200,
                    response_page_path="/index.html",
                    ttl=Duration.seconds(0),
                )
                for status in (403, 404)
            ],
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            enable_logging=True,
            log_bucket=access_logs,
            log_file_prefix="cloudfront/dashboard/",
            domain_names=[domain_name] if custom_domain and domain_name else None,
            certificate=(
                acm.Certificate.from_certificate_arn(self, "Certificate", certificate_arn)
                if custom_domain and certificate_arn
                else None
            ),
            # Only a custom certificate can raise it; the default one is fixed at TLSv1.
            minimum_protocol_version=(
                cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021 if custom_domain else None
            ),
            # A CLOUDFRONT-scope web ACL (infra/constructs/waf.py), when there is one.
            web_acl_id=web_acl_arn,
        )
        self.origin = f"https://{domain_name if custom_domain else self.distribution.domain_name}"
        nag.acknowledge(
            self.distribution,
            "AwsSolutions-CFR1",
            "Tally is an internal tool of one organisation whose people sign in from wherever "
            "they work; the static dashboard holds no data, and every API call needs a Cognito "
            "token, so country blocking would add no protection.",
        )
        if web_acl_arn is None:
            nag.acknowledge(
                self.distribution,
                "AwsSolutions-CFR2",
                "The distribution serves only the static dashboard files, which are public by "
                "nature; the data is behind the API. AWS WAF is optional (enableWaf): a stack in "
                "us-east-1 then puts a web ACL in front of this distribution too, a stack "
                "elsewhere attaches the one named by dashboardWebAclArn (a CloudFront-scope ACL "
                "can only live in us-east-1; docs/deploy.md).",
            )
        if not custom_domain:
            nag.acknowledge(
                self.distribution,
                "AwsSolutions-CFR4",
                "Without a custom domain CloudFront serves the default *.cloudfront.net "
                "certificate, whose minimum protocol AWS fixes at TLSv1; setting the "
                "dashboardDomain and dashboardCertificateArn context values enforces TLS 1.2.",
            )

    def deploy_site(
        self,
        *,
        api_url: str,
        rest_api: apigateway.IRestApi,
        user_pool: cognito.IUserPool,
        client: cognito.IUserPoolClient,
        log_retention_days: int,
        site_dir: Path = SITE_DIR,
    ) -> None:
        """Upload the built site and its ``config.json``; let the page reach this API only.

        Two deployments: the hashed bundles (cached for a year, never pruned, so a page that
        is open during a deploy still finds its files), then index.html, the icon and
        config.json (revalidated on every load, and invalidated in CloudFront).
        """
        site = built_site(site_dir)
        stack = Stack.of(self)
        # Scheme and host from the API itself, not from its stage URL: the stage depends on
        # the distribution (CORS), and the distribution on this policy.
        api_origin = f"https://{rest_api.rest_api_id}.execute-api.{stack.region}.{stack.url_suffix}"
        cognito_origin = f"https://cognito-idp.{stack.region}.{stack.url_suffix}"
        policy = content_security_policy([api_origin, cognito_origin])
        headers = self.headers_policy.node.default_child
        assert isinstance(headers, cloudfront.CfnResponseHeadersPolicy)
        headers.add_property_override(
            "ResponseHeadersPolicyConfig.SecurityHeadersConfig.ContentSecurityPolicy."
            "ContentSecurityPolicy",
            policy,
        )
        self.config: dict[str, Any] = runtime_config(
            api_url=api_url,
            region=stack.region,
            user_pool_id=user_pool.user_pool_id,
            client_id=client.user_pool_client_id,
            cognito_endpoint_url=f"{cognito_origin}/",
        )
        log_group = logs.LogGroup(
            self,
            "DeploymentLogs",
            retention=log_retention(log_retention_days),
            removal_policy=RemovalPolicy.DESTROY,
        )
        common: dict[str, Any] = {
            "destination_bucket": self.bucket,
            "prune": False,
            "memory_limit": 512,
            "log_group": log_group,
        }
        assets = s3deploy.BucketDeployment(
            self,
            "SiteAssets",
            sources=[s3deploy.Source.asset(str(site / ASSETS_DIR))],
            destination_key_prefix=f"{ASSETS_DIR}/",
            cache_control=[s3deploy.CacheControl.from_string(IMMUTABLE)],
            **common,
        )
        entry = s3deploy.BucketDeployment(
            self,
            "SiteEntry",
            sources=[
                s3deploy.Source.asset(str(site), exclude=[ASSETS_DIR, f"{ASSETS_DIR}/**"]),
                s3deploy.Source.json_data(CONFIG_FILE, self.config),
            ],
            cache_control=[s3deploy.CacheControl.no_cache()],
            distribution=self.distribution,
            distribution_paths=["/", f"/{INDEX_FILE}", f"/{CONFIG_FILE}", "/favicon.svg"],
            **common,
        )
        # The new index.html must never point at bundles that are not uploaded yet.
        entry.node.add_dependency(assets)
        self._acknowledge_deployment_handler(assets)

    @staticmethod
    def _acknowledge_deployment_handler(deployment: s3deploy.BucketDeployment) -> None:
        """cdk-nag findings on the Lambda function CDK's BucketDeployment brings along (one per
        stack, shared by both deployments), each named exactly as cdk-nag names it."""
        role = deployment.handler_role
        handler = role.node.scope
        assert handler is not None
        stack = Stack.of(handler)
        why = (
            "This is CDK's own BucketDeployment handler, which runs only while CloudFormation "
            "deploys the stack, to copy the dashboard's files"
        )
        nag.acknowledge_managed_policy(
            handler,
            iam.ManagedPolicy.from_aws_managed_policy_name(
                "service-role/AWSLambdaBasicExecutionRole"
            ),
            f"{why}; CDK gives it this policy, which only writes its own CloudWatch Logs.",
        )
        for rule in ("Serverless-LambdaLatestVersion", "AwsSolutions-L1"):
            nag.acknowledge(
                handler,
                rule,
                f"{why}; its runtime is chosen and kept current by aws-cdk-lib, not by Tally.",
            )
        nag.acknowledge(
            handler,
            "Serverless-LambdaTracing",
            f"{why}; X-Ray traces of a file copy would show nothing a failed deployment does "
            "not already report.",
        )
        nag.acknowledge(
            handler,
            "Serverless-LambdaDLQ",
            f"{why}; CloudFormation invokes it and reports a failure as a failed deployment, "
            "so a dead-letter queue would never be read.",
        )
        policy = role.node.try_find_child("DefaultPolicy")
        assert isinstance(policy, iam.Policy)
        document = stack.resolve(policy.document)
        wildcards: set[str] = set()
        for statement in document["Statement"]:
            actions = statement["Action"]
            resources = statement["Resource"]
            for action in [actions] if isinstance(actions, str) else actions:
                if "*" in action:
                    wildcards.add(f"Action::{action}")
            for resource in [resources] if isinstance(resources, (str, dict)) else resources:
                flat = nag.flatten_reference(resource)
                if "*" in flat:
                    wildcards.add(f"Resource::{flat}")
        for finding in sorted(wildcards):
            nag.acknowledge(
                handler,
                f"AwsSolutions-IAM5[{finding}]",
                f"{why}: CDK grants it read on its own asset bucket's objects, write on the "
                "dashboard bucket's objects and CloudFront invalidations (which have no "
                "resource-level permissions), with the object-level wildcards S3 needs.",
            )
