"""``cedarpy``, imported without its syntax-tree module until something uses it.

cedarpy's ``__init__`` imports ``cedarpy.pst`` (typed nodes of Cedar's syntax tree, about
fifty dataclasses), which Tally never uses: it is about 60% of cedarpy's import, paid by the
first decision of every cold container. A placeholder stands in for it and imports the real
module on the first attribute anyone reads from it, so nothing that does use it notices.
``make bench`` (cold-start) prints the API's import with the engine loaded.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

PST = "cedarpy.pst"


def _defer_pst() -> None:
    if "cedarpy" in sys.modules or PST in sys.modules:
        return
    placeholder = types.ModuleType(PST, "Stands in for cedarpy.pst until it is used.")

    def __getattr__(name: str) -> Any:
        if sys.modules.get(PST) is placeholder:
            del sys.modules[PST]
        return getattr(importlib.import_module(PST), name)

    placeholder.__getattr__ = __getattr__  # type: ignore[method-assign]
    sys.modules[PST] = placeholder


_defer_pst()

import cedarpy  # noqa: E402

__all__ = ["cedarpy"]
