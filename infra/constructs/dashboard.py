"""The dashboard's hosting: a private bucket behind CloudFront with origin access control.

The dashboard step deploys the site into the bucket; this construct only provides the place
and its origin, which the API's CORS configuration allows and nothing else.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra import nag


class Dashboard(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        access_logs: s3.IBucket,
        domain_name: str | None,
        certificate_arn: str | None,
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
                response_headers_policy=cloudfront.ResponseHeadersPolicy.SECURITY_HEADERS,
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
        )
        self.origin = f"https://{domain_name if custom_domain else self.distribution.domain_name}"
        nag.acknowledge(
            self.distribution,
            "AwsSolutions-CFR1",
            "Tally is an internal tool of one organisation whose people sign in from wherever "
            "they work; the static dashboard holds no data, and every API call needs a Cognito "
            "token, so country blocking would add no protection.",
        )
        nag.acknowledge(
            self.distribution,
            "AwsSolutions-CFR2",
            "The distribution serves only the static dashboard files, which are public by "
            "nature; the data is behind the API, which gets a regional WAF web ACL when the "
            "enableWaf context value is true (a CloudFront-scope ACL must live in us-east-1).",
        )
        if not custom_domain:
            nag.acknowledge(
                self.distribution,
                "AwsSolutions-CFR4",
                "Without a custom domain CloudFront serves the default *.cloudfront.net "
                "certificate, whose minimum protocol AWS fixes at TLSv1; setting the "
                "dashboardDomain and dashboardCertificateArn context values enforces TLS 1.2.",
            )
