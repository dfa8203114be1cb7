"""What an identifier a client sends may look like: resource ids and ARNs, cost centres,
currencies, free text. Each check returns why a value is refused (a sentence for the
client), or None; the API's input types raise it as a 422.

These values are stored, echoed to other users (an approver, an admin) and written to
e-mails and, later, exports: a control character, an ANSI escape or an invisible format
character must never reach any of them.
"""

from __future__ import annotations

import re
import unicodedata

# Cc: controls (BEL, ESC, NUL...); Cf: invisible formatting (zero-width space and joiners,
# bidi overrides, soft hyphen, BOM); Cs, Co, Cn: surrogates, private use, unassigned;
# Zl, Zp: line and paragraph separators.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def hidden_char_problem(value: str, *, allow: str = "") -> str | None:
    """Refuse control, invisible-format, unassigned and line-separator characters, and any
    space but U+0020 (a no-break or ideographic space looks like one and is not)."""
    for ch in value:
        if ch in allow:
            continue
        category = unicodedata.category(ch)
        if category in _REFUSED_CATEGORIES or (category == "Zs" and ch != " "):
            return f"control and invisible characters are not allowed (U+{ord(ch):04X})"
    return None


# --- ARNs ------------------------------------------------------------------------------
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html
PARTITION_REGION = {
    "aws": re.compile(r"(?:af|ap|ca|eu|il|me|mx|sa|us)-[a-z]+-\d{1,2}"),
    "aws-cn": re.compile(r"cn-[a-z]+-\d{1,2}"),
    "aws-us-gov": re.compile(r"us-gov-[a-z]+-\d{1,2}"),
}
_ARN = re.compile(
    r"arn:(?P<partition>[a-z-]+):(?P<service>[a-z0-9-]+):(?P<region>[a-z0-9-]*):"
    r"(?P<account>[^:]*):(?P<resource>.+)",
    re.DOTALL,
)
_ACCOUNT = re.compile(r"\d{12}")
# A generic resource part: the characters AWS resource names and paths are made of. No
# quotes, parentheses or spaces, so no formula (=HYPERLINK("...")) or markup fits in one.
_GENERIC_RESOURCE = re.compile(r"[A-Za-z0-9_+=,.@/:*$#%~-]{1,1024}")


def arn_problem(value: str) -> str | None:
    """Why ``value`` is not an ARN Tally accepts, or None.

    The partition is aws, aws-cn or aws-us-gov, and the region belongs to it; the account is
    12 digits. The registered resource types (``tally.resource_types``: EC2 instances, S3
    buckets, RDS instances, Lambda functions) are checked in their own resource format; other
    services by the generic shape."""
    m = _ARN.fullmatch(value)
    if not m:
        return "not an ARN (arn:partition:service:region:account:resource)"
    partition, service = m["partition"], m["service"]
    region, account, resource = m["region"], m["account"], m["resource"]
    region_re = PARTITION_REGION.get(partition)
    if region_re is None:
        return f"unknown partition {partition!r}: one of {', '.join(PARTITION_REGION)}"
    if region and not region_re.fullmatch(region):
        return f"{region!r} is not a region of the {partition} partition"
    if account and not _ACCOUNT.fullmatch(account):
        return "the account in an ARN is 12 digits"
    from tally.resource_types import BY_KEY  # with the first resource id, not every request

    known = BY_KEY.get(service)
    if known is None:
        return None if _GENERIC_RESOURCE.fullmatch(resource) else "not a valid ARN resource"
    ids = known.ids
    if bool(region) != ids.regional or bool(account) != ids.regional:
        where = "a region and an account" if ids.regional else "no region and no account"
        return f"an {service} ARN has {where}"
    if not ids.arn_resource.fullmatch(resource):
        return f"an {service} ARN ends in {ids.arn_shape}"
    return None


def arn_service(value: str) -> str | None:
    m = _ARN.fullmatch(value)
    return m["service"] if m else None


def resource_id_problem(resource_type: str, resource_id: str) -> str | None:
    """Why ``resource_id`` cannot name a resource of ``resource_type``, or None.

    A registered type's resources are named by their own id or by an ARN of their own
    service; any other type only by an ARN."""
    from tally.resource_types import BY_KEY  # with the first resource id, not every request

    hidden = hidden_char_problem(resource_id)
    if hidden:
        return hidden
    if resource_id.startswith("arn:"):
        service = arn_service(resource_id)
        if resource_type in BY_KEY and service not in (None, resource_type):
            return f"a {resource_type} resource needs an ARN of the {resource_type} service"
        return arn_problem(resource_id)
    known = BY_KEY.get(resource_type)
    if known is None:
        return f"a {resource_type} resource is named by its ARN"
    return None if known.ids.plain.fullmatch(resource_id) else f"not {known.ids.plain_hint}"


# --- cost centres ----------------------------------------------------------------------
# A spreadsheet reads a cell that starts with one of these as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@")


def cost_center_problem(value: str) -> str | None:
    hidden = hidden_char_problem(value)
    if hidden:
        return hidden
    if value.startswith(FORMULA_PREFIXES):
        return "a cost centre may not start with =, +, - or @"
    return None


# --- currencies ------------------------------------------------------------------------
# ISO 4217 active alphabetic codes (the list of 2025), without the fund codes (BOV, CLF,
# USN...), precious metals, SDR and the test codes (X..), which no budget is kept in.
# Withdrawn codes (HRK, SLL, ZWL, CUC, ANG) are not taken for a new budget.
ISO_4217 = frozenset(
    """
    AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP
    BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP
    GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES
    KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU
    MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON
    RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND
    TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR
    ZMW ZWG
    """.split()  # noqa: SIM905 - the table reads as ISO publishes it
)


def currency_problem(value: str) -> str | None:
    if value in ISO_4217:
        return None
    return "not an ISO 4217 currency code (e.g. USD, EUR, GBP)"
