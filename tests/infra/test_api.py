"""API Gateway: Cognito on every method but CORS preflight, validation, logs, throttling,
and problem+json gateway responses with CORS headers."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Capture, Match

from infra import outputs
from infra.constructs.api import GATEWAY_PROBLEMS
from tests.infra.conftest import VARIANT_CONTEXT, Synthesized, ref_id

PROBLEM = "application/problem+json"


def _dashboard_origin(synth: Synthesized) -> dict:
    distribution = synth.output_target(outputs.DASHBOARD_DISTRIBUTION_ID)
    return {"Fn::Join": ["", ["https://", {"Fn::GetAtt": [distribution, "DomainName"]}]]}


def _quoted(origin: dict) -> dict:
    """A header value as API Gateway wants it: the origin in single quotes."""
    parts = origin["Fn::Join"][1]
    return {"Fn::Join": ["", ["'" + parts[0], *parts[1:], "'"]]}


def test_every_method_but_preflight_uses_the_cognito_authorizer(synth: Synthesized) -> None:
    authorizers = synth.resources("AWS::ApiGateway::Authorizer")
    assert len(authorizers) == 1
    ((authorizer_id, authorizer),) = authorizers.items()
    pool = synth.output_target(outputs.USER_POOL_ID)
    assert authorizer["Properties"]["Type"] == "COGNITO_USER_POOLS"
    assert authorizer["Properties"]["ProviderARNs"] == [{"Fn::GetAtt": [pool, "Arn"]}]
    assert authorizer["Properties"]["IdentitySource"] == "method.request.header.Authorization"

    methods = synth.resources("AWS::ApiGateway::Method").values()
    resources = synth.resources("AWS::ApiGateway::Resource")
    public_ids = {
        r["Properties"]["PathPart"]: k
        for k, r in resources.items()
        if r["Properties"]["PathPart"] in ("unsubscribe", "health")
    }
    assert len(public_ids) == 2

    def public(m: dict) -> bool:
        return m["ResourceId"] in [{"Ref": r} for r in public_ids.values()]

    guarded = [
        m["Properties"]
        for m in methods
        if m["Properties"]["HttpMethod"] != "OPTIONS" and not public(m["Properties"])
    ]
    assert guarded, "the API has no methods"
    for method in guarded:
        assert method["AuthorizationType"] == "COGNITO_USER_POOLS"
        assert method["AuthorizerId"] == {"Ref": authorizer_id}
    # The exceptions: the digest's unsubscribe link (its signed token authorises it) and the
    # uptime check (no data).
    open_methods = [
        m["Properties"]
        for m in methods
        if m["Properties"]["HttpMethod"] != "OPTIONS" and public(m["Properties"])
    ]
    assert sorted((m["HttpMethod"], m["ResourceId"]["Ref"]) for m in open_methods) == sorted(
        [
            ("GET", public_ids["unsubscribe"]),
            ("POST", public_ids["unsubscribe"]),
            ("GET", public_ids["health"]),
        ]
    )
    for method in open_methods:
        assert method["AuthorizationType"] == "NONE" and "AuthorizerId" not in method
        assert method["Integration"]["Type"] == "AWS_PROXY"


def test_preflight_is_a_mock_limited_to_the_dashboard_origin(synth: Synthesized) -> None:
    origin = _quoted(_dashboard_origin(synth))
    preflights = [
        m["Properties"]
        for m in synth.resources("AWS::ApiGateway::Method").values()
        if m["Properties"]["HttpMethod"] == "OPTIONS"
    ]
    assert preflights
    for method in preflights:
        assert method["Integration"]["Type"] == "MOCK"
        headers = method["Integration"]["IntegrationResponses"][0]["ResponseParameters"]
        assert headers["method.response.header.Access-Control-Allow-Origin"] == origin
        assert "Authorization" in headers["method.response.header.Access-Control-Allow-Headers"]
        # The dashboard's conditional reads (api/caching.py) send it.
        assert "If-None-Match" in headers["method.response.header.Access-Control-Allow-Headers"]


def test_api_proxy_reaches_the_api_function_with_validation(synth: Synthesized) -> None:
    api_function = synth.output_target(outputs.API_FUNCTION_NAME)
    validator = Capture()
    synth.template.has_resource_properties(
        "AWS::ApiGateway::Method",
        {
            "HttpMethod": "ANY",
            "ResourceId": {"Ref": Match.string_like_regexp("proxy")},
            "Integration": {
                "Type": "AWS_PROXY",
                "Uri": {
                    "Fn::Join": [
                        "",
                        Match.array_with([{"Fn::GetAtt": [api_function, "Arn"]}]),
                    ]
                },
            },
            "RequestValidatorId": {"Ref": validator},
            "RequestParameters": {
                "method.request.path.proxy": True,
                "method.request.header.Authorization": True,
            },
        },
    )
    validation = synth.properties(validator.as_string())
    assert validation["ValidateRequestBody"] is True
    assert validation["ValidateRequestParameters"] is True
    paths = {
        r["Properties"]["PathPart"] for r in synth.resources("AWS::ApiGateway::Resource").values()
    }
    assert paths == {"api", "{proxy+}", "unsubscribe", "health"}


def test_stage_logs_traces_and_throttles(synth: Synthesized) -> None:
    fmt = Capture()
    log_group = Capture(Match.string_like_regexp("AccessLogs"))
    synth.template.has_resource_properties(
        "AWS::ApiGateway::Stage",
        {
            "TracingEnabled": True,
            "AccessLogSetting": {
                "Format": fmt,
                "DestinationArn": {"Fn::Join": ["", Match.array_with([{"Ref": log_group}])]},
            },
            "MethodSettings": [
                {
                    "HttpMethod": "*",
                    "ResourcePath": "/*",
                    "LoggingLevel": "ERROR",
                    "DataTraceEnabled": False,
                    "ThrottlingRateLimit": 50,
                    "ThrottlingBurstLimit": 100,
                }
            ],
        },
    )
    access_log = json.loads(fmt.as_string())  # the format must be JSON
    assert {"requestId", "status", "sub", "ip", "path"} <= access_log.keys()
    assert synth.properties(log_group.as_string())["RetentionInDays"] == 90


def test_throttling_comes_from_context(variant: Synthesized) -> None:
    variant.template.has_resource_properties(
        "AWS::ApiGateway::Stage",
        {
            "MethodSettings": Match.array_with(
                [
                    Match.object_like(
                        {
                            "ResourcePath": "/*",
                            "ThrottlingRateLimit": int(VARIANT_CONTEXT["apiThrottleRate"]),
                            "ThrottlingBurstLimit": int(VARIANT_CONTEXT["apiThrottleBurst"]),
                        }
                    )
                ]
            )
        },
    )


def _gateway_responses(synth: Synthesized) -> dict[str, dict]:
    return {
        r["Properties"]["ResponseType"]: r["Properties"]
        for r in synth.resources("AWS::ApiGateway::GatewayResponse").values()
    }


def test_every_gateway_response_is_configured(synth: Synthesized) -> None:
    assert set(_gateway_responses(synth)) == {
        p.response_type.response_type for p in GATEWAY_PROBLEMS
    }
    assert {"UNAUTHORIZED", "ACCESS_DENIED", "THROTTLED", "DEFAULT_4XX", "DEFAULT_5XX"} <= set(
        _gateway_responses(synth)
    )


@pytest.mark.parametrize(
    ("response_type", "status"),
    [
        ("UNAUTHORIZED", 401),
        ("ACCESS_DENIED", 403),
        ("THROTTLED", 429),
        ("DEFAULT_4XX", 400),
        ("DEFAULT_5XX", 500),
        ("MISSING_AUTHENTICATION_TOKEN", 404),
    ],
)
def test_gateway_response_is_problem_json_with_cors(
    synth: Synthesized, response_type: str, status: int
) -> None:
    response = _gateway_responses(synth)[response_type]
    assert response["StatusCode"] == str(status)
    headers = response["ResponseParameters"]
    assert headers["gatewayresponse.header.Content-Type"] == f"'{PROBLEM}'"
    assert headers["gatewayresponse.header.Access-Control-Allow-Origin"] == _quoted(
        _dashboard_origin(synth)
    )
    # API Gateway substitutes $context.error.messageString with a quoted JSON string.
    template = response["ResponseTemplates"]["application/json"]
    body = json.loads(template.replace("$context.error.messageString", '"Unauthorized"'))
    assert set(body) == {"type", "title", "status", "detail"}
    assert body["status"] == status
    assert body["type"].startswith("https://")
    assert body["title"] and body["detail"]


def test_waf_is_attached_to_the_stage_when_enabled(
    synth: Synthesized, variant: Synthesized
) -> None:
    assert not synth.resources("AWS::WAFv2::WebACL")
    ((acl_id, acl),) = variant.resources("AWS::WAFv2::WebACL").items()
    assert acl["Properties"]["Scope"] == "REGIONAL"
    names = {rule["Name"] for rule in acl["Properties"]["Rules"]}
    assert {"RatePerIp", "AWSManagedRulesCommonRuleSet"} <= names
    (rate,) = [r for r in acl["Properties"]["Rules"] if r["Name"] == "RatePerIp"]
    assert rate["Action"] == {"Block": {}}
    assert rate["Statement"]["RateBasedStatement"] == {
        "AggregateKeyType": "IP",
        "Limit": int(VARIANT_CONTEXT["wafRateLimit"]),
        "EvaluationWindowSec": 300,
    }
    (association,) = variant.resources("AWS::WAFv2::WebACLAssociation").values()
    assert association["Properties"]["WebACLArn"] == {"Fn::GetAtt": [acl_id, "Arn"]}
    stage = next(iter(variant.resources("AWS::ApiGateway::Stage")))
    assert stage in json.dumps(association["Properties"]["ResourceArn"])


def test_api_url_output_points_at_the_stage(synth: Synthesized) -> None:
    url = json.dumps(synth.json["Outputs"][outputs.API_URL]["Value"])
    assert ref_id({"Ref": next(iter(synth.resources("AWS::ApiGateway::RestApi")))}) in url
    assert url.endswith('/api"]]}')


def test_pdf_answers_pass_as_bytes(synth: Synthesized) -> None:
    """The invoice template preview answers application/pdf (base64 from the handler):
    API Gateway turns it back into bytes only for a binary media type."""
    synth.template.has_resource_properties(
        "AWS::ApiGateway::RestApi", {"BinaryMediaTypes": ["application/pdf"]}
    )
