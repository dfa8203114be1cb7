"""What a client may send as an identifier: resource ids and ARNs, cost centres, currencies,
group names (security review, findings 2 and 7)."""

from __future__ import annotations

import pytest

from tally.identifiers import (
    ISO_4217,
    arn_problem,
    cost_center_problem,
    currency_problem,
    hidden_char_problem,
    resource_id_problem,
)
from tally.identity import check_group_name, group_name_problem

ACCOUNT = "123456789012"
INSTANCE = "i-0123456789abcdef0"


@pytest.mark.parametrize(
    ("resource_type", "resource_id"),
    [
        ("ec2", INSTANCE),
        ("ec2", "i-0123abcd"),  # the older 8-digit ids
        ("ec2", f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/{INSTANCE}"),
        ("ec2", f"arn:aws-cn:ec2:cn-north-1:{ACCOUNT}:instance/{INSTANCE}"),
        ("ec2", f"arn:aws-us-gov:ec2:us-gov-west-1:{ACCOUNT}:instance/{INSTANCE}"),
        ("s3", "alice-data"),
        ("s3", "logs.example.com"),
        ("s3", "arn:aws:s3:::alice-data"),
        ("rds", "orders-db"),
        ("rds", f"arn:aws:rds:eu-west-1:{ACCOUNT}:db:orders-db"),
        ("lambda", "resize_images"),
        ("lambda", f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:resize"),
        ("lambda", f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:resize:$LATEST"),
        ("lambda", f"arn:aws:lambda:ap-southeast-2:{ACCOUNT}:function:resize:live"),
        ("dynamodb", f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/orders"),
        ("sagemaker", f"arn:aws:sagemaker:eu-central-1:{ACCOUNT}:endpoint/my-endpoint"),
        ("iam", f"arn:aws:iam::{ACCOUNT}:role/service-role/x"),  # a global service
    ],
)
def test_well_formed_resource_ids_pass(resource_type: str, resource_id: str) -> None:
    assert resource_id_problem(resource_type, resource_id) is None


@pytest.mark.parametrize(
    ("resource_type", "resource_id", "why"),
    [
        # control and invisible characters anywhere (BEL, ESC, zero-width, bidi, NBSP)
        ("ec2", INSTANCE + "\x07", "control"),
        ("ec2", "\x1b[31m" + INSTANCE, "control"),
        ("s3", "alice\u200b-data", "control"),
        ("s3", "alice\u202e-data", "control"),
        ("s3", "alice\u00a0data", "control"),
        ("dynamodb", f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/x\u2028", "control"),
        # partition and region
        ("dynamodb", f"arn:aws-iso:dynamodb:us-east-1:{ACCOUNT}:table/x", "partition"),
        ("dynamodb", f"arn:aws-cn:dynamodb:us-east-1:{ACCOUNT}:table/x", "region"),
        ("dynamodb", f"arn:aws:dynamodb:cn-north-1:{ACCOUNT}:table/x", "region"),
        ("dynamodb", f"arn:aws:dynamodb:us-gov-west-1:{ACCOUNT}:table/x", "region"),
        ("dynamodb", f"arn:aws:dynamodb:mars-1:{ACCOUNT}:table/x", "region"),
        ("dynamodb", "arn:aws:dynamodb:us-east-1:12345:table/x", "12 digits"),
        # a formula or markup in the resource part
        ("sqs", f'arn:aws:sqs:us-east-1:{ACCOUNT}:=HYPERLINK("http://evil")', "resource"),
        ("sqs", f"arn:aws:sqs:us-east-1:{ACCOUNT}:<script>", "resource"),
        ("dynamodb", "arn:aws:dynamodb:us-east-1", "not an ARN"),
        # per service formats
        ("ec2", f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/i-xyz", "instance/i-"),
        ("ec2", f"arn:aws:ec2:us-east-1:{ACCOUNT}:volume/vol-0123abcd", "instance/i-"),
        ("ec2", f"arn:aws:ec2::{ACCOUNT}:instance/{INSTANCE}", "region"),
        ("s3", f"arn:aws:s3:us-east-1:{ACCOUNT}:alice-data", "no region"),
        ("s3", "arn:aws:s3:::alice-data/key.txt", "bucket"),
        ("s3", "arn:aws:s3:::Alice_Data", "bucket"),
        ("rds", f"arn:aws:rds:eu-west-1:{ACCOUNT}:cluster:orders", "db:"),
        ("rds", f"arn:aws:rds:eu-west-1:{ACCOUNT}:db:orders--db", "db:"),
        ("lambda", f"arn:aws:lambda:us-east-1:{ACCOUNT}:layer:x", "function:"),
        # the ARN's service must be the resource's type
        ("ec2", "arn:aws:s3:::alice-data", "ec2 service"),
        ("lambda", f"arn:aws:rds:eu-west-1:{ACCOUNT}:db:orders", "lambda service"),
        # plain ids per type; other types only by ARN
        ("ec2", "i-doesnotexist", "instance id"),
        ("ec2", "alice-data", "instance id"),
        ("s3", "ab", "bucket"),
        ("s3", "xn--bucket", "bucket"),
        ("s3", "a..b", "bucket"),
        ("rds", "1db", "RDS"),
        ("rds", "db-", "RDS"),
        ("lambda", "a" * 65, "Lambda"),
        ("sagemaker", "my-endpoint", "by its ARN"),
    ],
)
def test_malformed_resource_ids_are_refused(resource_type: str, resource_id: str, why: str) -> None:
    problem = resource_id_problem(resource_type, resource_id)
    assert problem is not None
    assert why.lower() in problem.lower()


def test_every_arn_check_names_a_reason() -> None:
    assert arn_problem("arn:aws:s3:::alice-data") is None
    assert arn_problem("nope") == "not an ARN (arn:partition:service:region:account:resource)"


@pytest.mark.parametrize("text", ["plain", "with space", "Ünïcödé", "日本語"])
def test_visible_text_passes(text: str) -> None:
    assert hidden_char_problem(text) is None


@pytest.mark.parametrize(
    "char",
    [
        "\x00",
        "\x07",
        "\x1b",
        "\x7f",
        "\u200b",
        "\u200d",
        "\u2066",
        "\ufeff",
        "\u00ad",
        "\u3000",
        "\u2029",
        "\ue000",
        "\U000e0041",
    ],
)
def test_hidden_characters_are_refused(char: str) -> None:
    assert hidden_char_problem(f"a{char}b") is not None


@pytest.mark.parametrize("value", ["+1", "-1", "=SUM(A1)", "@cmd"])
def test_cost_centres_that_read_as_formulas_are_refused(value: str) -> None:
    assert cost_center_problem(value) == "a cost centre may not start with =, +, - or @"


@pytest.mark.parametrize("value", ["CC-1", "Platform 2", "eng/data", "1+1"])
def test_ordinary_cost_centres_pass(value: str) -> None:
    assert cost_center_problem(value) is None


@pytest.mark.parametrize("code", ["USD", "EUR", "GBP", "JPY", "CHF", "INR", "XOF"])
def test_iso_4217_currencies_pass(code: str) -> None:
    assert currency_problem(code) is None


@pytest.mark.parametrize("code", ["ABC", "XXX", "XTS", "XAU", "HRK", "usd", "US$", ""])
def test_other_codes_are_refused(code: str) -> None:
    assert currency_problem(code) is not None


def test_the_currency_table_is_three_upper_case_letters() -> None:
    assert len(ISO_4217) > 150
    assert all(len(c) == 3 and c.isascii() and c.isupper() for c in ISO_4217)


@pytest.mark.parametrize("name", ["admins", "users", "finance", "team-a_b.c", "Équipe"])
def test_group_names_without_delimiters_pass(name: str) -> None:
    assert check_group_name(name) == name


@pytest.mark.parametrize(
    "name",
    [
        "finance,admins",
        "finance admins",
        "[admins]",
        "a]b",
        'a"b',
        "a'b",
        "a\tb",
        "a\u200bb",
        "a\u00a0b",
        "",
    ],
)
def test_group_names_that_could_read_as_several_are_refused(name: str) -> None:
    assert group_name_problem(name) is not None
    with pytest.raises(ValueError, match="group name"):
        check_group_name(name)
