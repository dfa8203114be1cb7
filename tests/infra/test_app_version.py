"""Every function knows the deployed code's version (``TALLY_VERSION``): the API's ETags
change with a deploy that may change what the same data looks like (api/caching.py)."""

from __future__ import annotations

import re

from api.caching import VERSION_VARIABLE
from tests.infra.conftest import Synthesized


def test_every_function_has_the_code_version(synth: Synthesized) -> None:
    functions = synth.resources("AWS::Lambda::Function")
    assert functions
    versions = {
        logical_id: f["Properties"]["Environment"]["Variables"].get(VERSION_VARIABLE)
        for logical_id, f in functions.items()
    }
    assert len(set(versions.values())) == 1, versions
    [version] = set(versions.values())
    assert version is not None and re.fullmatch(r"[0-9a-f]{12}", version)
