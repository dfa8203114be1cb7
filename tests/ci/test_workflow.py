"""The GitHub Actions workflow (.github/workflows/ci.yml): what runs on which event, with which
credentials; its linter; the script that hands the deployment's context to the CDK CLI; and the
OIDC roles template (.github/aws/oidc-roles.yaml) the diff and deploy jobs assume."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"
CDK_SCRIPT = ROOT / ".github" / "scripts" / "cdk.sh"
OIDC_TEMPLATE = ROOT / ".github" / "aws" / "oidc-roles.yaml"
# The venv's console scripts (requirements-dev.txt installs actionlint and shellcheck there).
VENV_BIN = Path(sys.executable).parent
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")


def _workflow() -> dict[str, Any]:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    # YAML 1.1 reads the key `on` as the boolean true; GitHub reads it as "on".
    workflow["on"] = workflow.pop(True)
    return workflow


def _jobs() -> dict[str, Any]:
    jobs = _workflow()["jobs"]
    assert isinstance(jobs, dict)
    return jobs


def _steps_using(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in job["steps"] if s.get("uses", "").split("@")[0] == action]


def _step(job: dict[str, Any], step_id: str) -> dict[str, Any]:
    (step,) = [s for s in job["steps"] if s.get("id") == step_id]
    return step


def test_every_push_and_pull_request_runs_make_test() -> None:
    workflow = _workflow()
    # No branch or path filters: any push, any pull request.
    assert workflow["on"] == {"push": None, "pull_request": None}
    test = workflow["jobs"]["test"]
    assert "if" not in test
    assert [s["run"] for s in test["steps"] if "run" in s] == ["make test"]
    # The same command the repository's own CI script runs on a clean clone.
    assert "\nmake test\n" in (ROOT / ".ci" / "run").read_text()


def test_the_test_job_runs_on_the_makefiles_machine() -> None:
    """Debian (the Makefile installs Debian's Chromium with apt-get, as root), the Python the
    project targets, Node 20 like the README."""
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'requires-python = ">=3.11"' in pyproject and 'target-version = "py311"' in pyproject
    container = _jobs()["test"]["container"]
    assert container["image"] == "python:3.11-bookworm"
    assert "--shm-size" in container["options"]  # Docker's 64 MB /dev/shm crashes Chromium
    for name, job in _jobs().items():
        for node in _steps_using(job, "actions/setup-node"):
            assert node["with"]["node-version"] == 20, name
        versions = [s["with"]["python-version"] for s in _steps_using(job, "actions/setup-python")]
        # the last one set up is the default `python3` the Makefile builds .venv with
        assert versions in ([], ["3.14", "3.11"]), name


def test_caches_are_keyed_on_the_lock_files() -> None:
    lock = "templates/dashboard/package-lock.json"
    assert (ROOT / lock).is_file()
    for name, job in _jobs().items():
        for node in _steps_using(job, "actions/setup-node"):
            assert node["with"]["cache"] == "npm", name
            assert node["with"]["cache-dependency-path"] == lock, name
        for python in _steps_using(job, "actions/setup-python"):
            if python["with"]["python-version"] == "3.11":
                assert python["with"]["cache-dependency-path"] == "requirements*.txt", name
    (pip,) = _steps_using(_jobs()["test"], "actions/cache")
    assert pip["with"]["path"] == "~/.cache/pip"
    assert "${{ hashFiles('requirements*.txt') }}" in pip["with"]["key"]


def test_every_action_is_pinned_to_a_commit() -> None:
    """A tag can be moved to other code, a commit cannot; the comment names its release, and one
    action is at one commit throughout."""
    uses = [
        line.split("uses:", 1)[1].strip()
        for line in WORKFLOW.read_text().splitlines()
        if line.strip().lstrip("- ").startswith("uses:")
    ]
    assert len(uses) >= 10
    unpinned = [u for u in uses if not PINNED.match(u)]
    assert unpinned == []
    commits: dict[str, set[str]] = {}
    for u in uses:
        action, rest = u.split("@")
        commits.setdefault(action, set()).add(rest)
    assert {action: len(pins) for action, pins in commits.items() if len(pins) > 1} == {}
    # and the pins do not go stale: Dependabot proposes each new release
    dependabot = yaml.safe_load((ROOT / ".github" / "dependabot.yml").read_text())
    assert {"package-ecosystem": "github-actions", "directory": "/"}.items() <= (
        dependabot["updates"][0].items()
    )


def test_deploy_runs_on_main_after_the_tests_through_oidc() -> None:
    deploy = _jobs()["deploy"]
    assert deploy["needs"] == "test"
    condition = " ".join(deploy["if"].split())
    assert "github.event_name == 'push'" in condition
    assert "github.ref == 'refs/heads/main'" in condition
    assert "vars.AWS_DEPLOY_ROLE_ARN != ''" in condition
    assert deploy["environment"] == "production"
    assert deploy["concurrency"] == {"group": "deploy-production", "cancel-in-progress": False}
    (credentials,) = _steps_using(deploy, "aws-actions/configure-aws-credentials")
    assert credentials["with"]["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
    assert credentials["with"]["aws-region"] == "${{ vars.AWS_REGION }}"
    (command,) = [s["run"] for s in deploy["steps"] if "cdk.sh deploy" in s.get("run", "")]
    assert "--require-approval never" in command


def test_no_stored_aws_keys_and_id_tokens_only_where_aws_is_reached() -> None:
    text = WORKFLOW.read_text()
    assert "secrets." not in text
    assert "aws-access-key-id" not in text and "AWS_SECRET_ACCESS_KEY" not in text
    workflow = _workflow()
    assert workflow["permissions"] == {"contents": "read"}
    for name, job in workflow["jobs"].items():
        reaches_aws = bool(_steps_using(job, "aws-actions/configure-aws-credentials"))
        expected = {"contents": "read", "id-token": "write"} if reaches_aws else None
        assert job.get("permissions") == expected, name
        for checkout in _steps_using(job, "actions/checkout"):
            # later steps (pip, npm, the CDK app) never see the token in .git/config
            assert checkout["with"]["persist-credentials"] is False, name


def _run_step(script: str, env: dict[str, str], tmp_path: Path) -> tuple[str, str]:
    output, summary = tmp_path / "output", tmp_path / "summary"
    output.write_text("")
    summary.write_text("")
    subprocess.run(
        ["bash", "-eo", "pipefail", "-c", script],
        env={
            "PATH": os.environ["PATH"],
            "GITHUB_OUTPUT": str(output),
            "GITHUB_STEP_SUMMARY": str(summary),
            **env,
        },
        check=True,
        capture_output=True,
    )
    return output.read_text(), summary.read_text()


@pytest.mark.parametrize(
    ("role", "region", "same_repository", "enabled", "reason"),
    [
        ("arn:aws:iam::111122223333:role/diff", "eu-west-1", "true", True, None),
        ("", "eu-west-1", "true", False, "AWS_DIFF_ROLE_ARN"),
        ("arn:aws:iam::111122223333:role/diff", "", "true", False, "AWS_REGION"),
        ("arn:aws:iam::111122223333:role/diff", "eu-west-1", "false", False, "fork"),
    ],
)
def test_the_pull_request_diff_runs_or_says_why_not(
    role: str, region: str, same_repository: str, enabled: bool, reason: str | None, tmp_path: Path
) -> None:
    diff = _jobs()["diff"]
    assert diff["if"] == "github.event_name == 'pull_request'"
    assert [s["run"] for s in diff["steps"] if s.get("run") == "make synth"] == ["make synth"]
    gate = _step(diff, "aws")
    output, summary = _run_step(
        gate["run"],
        {"ROLE": role, "REGION": region, "SAME_REPOSITORY": same_repository},
        tmp_path,
    )
    assert output == f"enabled={'true' if enabled else 'false'}\n"
    if reason is None:
        assert summary == ""
    else:
        assert summary.startswith("### cdk diff skipped") and reason in summary
    # Credentials and the diff itself wait for that answer.
    gated = [s for s in diff["steps"] if s.get("if") == "steps.aws.outputs.enabled == 'true'"]
    assert [s.get("uses", "").split("@")[0] or s["name"] for s in gated] == [
        "aws-actions/configure-aws-credentials",
        "cdk diff",
    ]
    assert "cdk.sh diff Tally --method=template" in gated[1]["run"]
    assert "GITHUB_STEP_SUMMARY" in gated[1]["run"]


def _cdk_script(
    context: str | None, tmp_path: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    """The script with a stand-in `npx` that prints the arguments it was given, one a line."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    npx = bin_dir / "npx"
    npx.write_text('#!/usr/bin/env bash\nprintf "%s\\n" "$@"\n')
    npx.chmod(0o755)
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}"}
    if context is not None:
        env["TALLY_CDK_CONTEXT"] = context
    return subprocess.run(
        [str(CDK_SCRIPT), *args], env=env, capture_output=True, text=True, check=False
    )


def test_the_cdk_script_passes_each_context_line_as_one_value(tmp_path: Path) -> None:
    context = (
        "senderEmail=costs@example.org\r\n"
        "\n"
        "# the organisation on invoices\n"
        "orgName=Example Corp\n"
        "   \n"
        'ownerTagMap={"team": "Team"}\n'
        "adminEmail=jane.doe@example.org"  # a variable's last line has no newline
    )
    result = _cdk_script(context, tmp_path, "diff", "Tally")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "--yes",
        "aws-cdk@2",
        "diff",
        "Tally",
        "-c",
        "senderEmail=costs@example.org",
        "-c",
        "orgName=Example Corp",
        "-c",
        'ownerTagMap={"team": "Team"}',
        "-c",
        "adminEmail=jane.doe@example.org",
    ]


def test_the_cdk_script_without_context_uses_cdk_json_alone(tmp_path: Path) -> None:
    for context in (None, ""):
        result = _cdk_script(context, tmp_path, "synth")
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines() == ["--yes", "aws-cdk@2", "synth"]


def test_the_cdk_script_refuses_a_line_that_is_not_key_value(tmp_path: Path) -> None:
    result = _cdk_script("senderEmail=costs@example.org\nadminEmail", tmp_path, "deploy")
    assert result.returncode == 2
    assert "'adminEmail' is not key=value" in result.stderr
    assert result.stdout == ""  # the CLI never ran


def _actionlint(*files: Path) -> subprocess.CompletedProcess[str]:
    if not sys.platform.startswith("linux"):
        pytest.skip("actionlint is installed on Linux only (requirements-dev.txt)")
    actionlint, shellcheck = VENV_BIN / "actionlint", VENV_BIN / "shellcheck"
    assert actionlint.exists() and shellcheck.exists(), "not in the venv: run `make venv`"
    return subprocess.run(
        [str(actionlint), f"-shellcheck={shellcheck}", "-pyflakes=", "-oneline", *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )


def test_actionlint_passes_and_make_lint_runs_it() -> None:
    result = _actionlint(WORKFLOW)
    assert (result.returncode, result.stdout) == (0, "")
    dry_run = subprocess.run(
        # -o: treat the venv and node_modules as up to date, so nothing is installed
        [
            "make",
            "-n",
            "-o",
            ".venv/.installed",
            "-o",
            "templates/dashboard/node_modules/.package-lock.json",
            "lint",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    if sys.platform.startswith("linux"):
        lint = "bin/actionlint -shellcheck=.venv/bin/shellcheck -pyflakes= .github/workflows/*.yml"
        assert lint in dry_run.stdout
        assert ".venv/bin/shellcheck .github/scripts/*.sh" in dry_run.stdout


def test_actionlint_finds_a_broken_workflow(tmp_path: Path) -> None:
    """The lint is live: a deploy job needing a job that does not exist, and a run: step
    ShellCheck objects to, are reported."""
    broken = WORKFLOW.read_text().replace("needs: test", "needs: tests")
    broken = broken.replace("run: make test", 'run: cd $HOME/x; make test "$undefined"')
    (tmp_path / "ci.yml").write_text(broken)
    result = _actionlint(tmp_path / "ci.yml")
    assert result.returncode == 1
    assert '"deploy" needs job "tests" which does not exist' in result.stdout
    assert "shellcheck reported issue" in result.stdout


def _oidc_template() -> dict[str, Any]:
    from cfnlint.decode import decode_str

    template, errors = decode_str(OIDC_TEMPLATE.read_text())
    assert errors == []
    assert isinstance(template, dict)
    return template


def test_the_oidc_roles_template_is_valid_cloudformation() -> None:
    from cfnlint.api import lint

    assert lint(OIDC_TEMPLATE.read_text(), regions=["us-east-1", "eu-west-1"]) == []


def _trust(role: dict[str, Any]) -> dict[str, Any]:
    (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    return dict(statement["Condition"]["StringEquals"])


def _may_assume(role: dict[str, Any]) -> list[str]:
    (policy,) = role["Properties"]["Policies"]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert (statement["Effect"], statement["Action"]) == ("Allow", "sts:AssumeRole")
    resources = statement["Resource"]
    resources = resources if isinstance(resources, list) else [resources]
    return [r["Fn::Sub"].split(":role/cdk-${CdkQualifier}-")[1] for r in resources]


def test_only_the_deploy_environment_can_deploy_and_pull_requests_only_read() -> None:
    template = _oidc_template()
    resources = template["Resources"]
    audience = "token.actions.githubusercontent.com:aud"
    subject = "token.actions.githubusercontent.com:sub"

    deploy = _trust(resources["DeployRole"])
    assert deploy[audience] == "sts.amazonaws.com"
    assert deploy[subject] == {
        "Fn::Sub": "repo:${GitHubRepository}:environment:${DeployEnvironment}"
    }
    # The template's environment is the one the workflow's deploy job runs in.
    assert (
        template["Parameters"]["DeployEnvironment"]["Default"] == _jobs()["deploy"]["environment"]
    )
    assert _may_assume(resources["DeployRole"]) == [
        "deploy-role-${AWS::AccountId}-${AWS::Region}",
        "file-publishing-role-${AWS::AccountId}-${AWS::Region}",
        "image-publishing-role-${AWS::AccountId}-${AWS::Region}",
        "lookup-role-${AWS::AccountId}-${AWS::Region}",
    ]

    diff = _trust(resources["DiffRole"])
    assert diff == {
        audience: "sts.amazonaws.com",
        subject: {"Fn::Sub": "repo:${GitHubRepository}:pull_request"},
    }
    assert _may_assume(resources["DiffRole"]) == ["lookup-role-${AWS::AccountId}-${AWS::Region}"]

    # Its outputs are the variables the workflow reads.
    text = WORKFLOW.read_text()
    for output, variable in (
        ("DeployRoleArn", "AWS_DEPLOY_ROLE_ARN"),
        ("DiffRoleArn", "AWS_DIFF_ROLE_ARN"),
    ):
        assert variable in template["Outputs"][output]["Description"]
        assert f"vars.{variable}" in text
