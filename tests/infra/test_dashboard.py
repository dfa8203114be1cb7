"""The dashboard's deployment: the built site and config.json uploaded by CDK, served with a
strict Content-Security-Policy that allows the page to reach this API and Cognito only."""

from __future__ import annotations

import re
from typing import Any

import pytest

from infra.dashboard_site import SITE_DIR, SiteNotBuilt, built_site, content_security_policy
from infra.nag import flatten_reference
from tests.infra.conftest import CDK_DEPLOYMENT_HANDLER_PREFIX, Synthesized


def _headers_policy(synth: Synthesized) -> dict[str, Any]:
    (policy,) = synth.resources("AWS::CloudFront::ResponseHeadersPolicy").values()
    return dict(policy["Properties"]["ResponseHeadersPolicyConfig"])


def _csp(synth: Synthesized) -> str:
    value = _headers_policy(synth)["SecurityHeadersConfig"]["ContentSecurityPolicy"]
    return flatten_reference(value["ContentSecurityPolicy"])


def _directives(csp: str) -> dict[str, list[str]]:
    return {
        name: values for name, *values in (part.split() for part in csp.split(";") if part.strip())
    }


def _deployments(synth: Synthesized) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource["Properties"]
        for logical_id, resource in synth.json["Resources"].items()
        if resource["Type"] == "Custom::CDKBucketDeployment"
    }


def test_the_distribution_sends_the_dashboards_headers_policy(synth: Synthesized) -> None:
    (policy_id,) = synth.resources("AWS::CloudFront::ResponseHeadersPolicy")
    (distribution,) = synth.resources("AWS::CloudFront::Distribution").values()
    behavior = distribution["Properties"]["DistributionConfig"]["DefaultCacheBehavior"]
    assert behavior["ResponseHeadersPolicyId"] == {"Ref": policy_id}


def test_csp_allows_only_the_sites_own_code_and_this_api(synth: Synthesized) -> None:
    directives = _directives(_csp(synth))
    (rest_api,) = synth.resources("AWS::ApiGateway::RestApi")

    assert directives["default-src"] == ["'none'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["connect-src"] == [
        "'self'",
        f"https://<{rest_api}>.execute-api.<AWS::Region>.<AWS::URLSuffix>",
        "https://cognito-idp.<AWS::Region>.<AWS::URLSuffix>",
    ]
    joined = " ".join(v for values in directives.values() for v in values)
    assert "unsafe" not in joined
    assert "*" not in joined


def test_security_headers_are_forced(synth: Synthesized) -> None:
    headers = _headers_policy(synth)["SecurityHeadersConfig"]
    assert headers["FrameOptions"] == {"FrameOption": "DENY", "Override": True}
    assert headers["ReferrerPolicy"]["ReferrerPolicy"] == "no-referrer"
    assert headers["ContentTypeOptions"] == {"Override": True}
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    for header in headers.values():
        assert header["Override"] is True


def test_bundles_are_immutable_and_the_entry_files_revalidated(synth: Synthesized) -> None:
    deployments = list(_deployments(synth).values())
    assert len(deployments) == 2
    by_cache = {d["SystemMetadata"]["cache-control"]: d for d in deployments}
    assets = by_cache["public, max-age=31536000, immutable"]
    entry = by_cache["no-cache"]

    assert assets["DestinationBucketKeyPrefix"] == "assets/"
    # Nothing is ever pruned: a page open during a deploy still finds its bundle.
    assert assets["Prune"] is False
    assert entry["Prune"] is False
    assert set(entry["DistributionPaths"]) >= {"/", "/index.html", "/config.json"}
    (bucket,) = {d["DestinationBucketName"]["Ref"] for d in deployments}
    assert bucket == synth.output_target("DashboardBucketName")


def test_config_json_names_this_api_and_user_pool(synth: Synthesized) -> None:
    (entry,) = (d for d in _deployments(synth).values() if "DistributionId" in d)
    markers = {
        key: flatten_reference(value)
        for source in entry["SourceMarkers"]
        for key, value in source.items()
    }
    rendered = " ".join(markers.values())
    (rest_api,) = synth.resources("AWS::ApiGateway::RestApi")
    assert f"https://<{rest_api}>.execute-api." in rendered and "/api" in rendered
    assert f"<{synth.output_target('UserPoolId')}>" in rendered
    assert f"<{synth.output_target('UserPoolClientId')}>" in rendered
    assert "https://cognito-idp.<AWS::Region>.<AWS::URLSuffix>/" in rendered


def test_the_upload_function_is_limited_to_the_buckets_and_cloudfront(synth: Synthesized) -> None:
    roles = [
        logical_id
        for logical_id in synth.resources("AWS::IAM::Role", include_cdk_deployment=True)
        if logical_id.startswith(CDK_DEPLOYMENT_HANDLER_PREFIX)
    ]
    assert len(roles) == 1
    statements = [
        statement
        for policy in synth.resources("AWS::IAM::Policy", include_cdk_deployment=True).values()
        if {"Ref": roles[0]} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    site = synth.output_target("DashboardBucketName")
    for statement in statements:
        resources = statement["Resource"]
        flat = {
            flatten_reference(r)
            for r in (resources if isinstance(resources, list) else [resources])
        }
        actions = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        if flat == {"*"}:
            assert set(actions) == {"cloudfront:CreateInvalidation", "cloudfront:GetInvalidation"}
        else:
            assert all(
                f.startswith("arn:<AWS::Partition>:s3:::cdk-") or f.startswith(f"<{site}.Arn>")
                for f in flat
            ), flat


def test_csp_has_no_inline_allowance_whatever_the_sources() -> None:
    policy = content_security_policy(["https://api.example.org"])
    assert "connect-src 'self' https://api.example.org" in policy
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy


def test_an_unbuilt_site_says_how_to_build_it(tmp_path: Any) -> None:
    with pytest.raises(SiteNotBuilt, match="make dashboard"):
        built_site(tmp_path)


def test_the_built_site_has_hashed_bundles() -> None:
    site = built_site(SITE_DIR)
    index = (site / "index.html").read_text()
    bundles = sorted(p.name for p in (site / "assets").iterdir() if p.suffix in (".js", ".css"))
    # index.html loads the app and the styles, and preloads the first screen's chunks (the
    # dashboard's and what it imports); every other screen's chunk (code splitting) is fetched
    # by the app when that screen opens, never by the first page load.
    scripts = re.findall(r'<script type="module" src="assets/([^"]+)"', index)
    styles = re.findall(r'<link rel="stylesheet" href="assets/([^"]+)"', index)
    preloaded = re.findall(r'<link rel="modulepreload" href="assets/([^"]+)"', index)
    assert [n.split("-")[0] for n in scripts + styles] == ["app", "styles"]
    assert any(n.startswith("dashboard-") for n in preloaded)
    named = set(scripts + styles + preloaded)
    assert all(f"assets/{name}" not in index for name in set(bundles) - named)
    lazy = {n.rsplit("-", 1)[0] for n in set(bundles) - named} - {"chunk"}
    assert {"topology", "costs", "estate", "resource", "chargeback"} <= lazy
    for name in bundles:
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*-[A-Z0-9]{8}\.(js|css)", name), name
    assert "<script>" not in index and "style=" not in index


def test_csp_frames_only_the_dashboards_own_blobs() -> None:
    """The template preview's PDF is framed from a blob: URL the dashboard made; nothing from
    any other origin may be framed, and plugins stay off."""
    policy = content_security_policy(["https://api.example.org"])
    assert "frame-src blob:" in policy.split("; ")
    assert "object-src 'none'" in policy.split("; ")
