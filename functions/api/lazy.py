"""Modules loaded on first use.

The handler imports only what every request needs (cold start is paid by real users); the
domain modules behind one area's routes load when such a route first runs. Routes write
``reports = lazy_module("tally.reports")`` under an ``if not TYPE_CHECKING`` so type checkers
still see the real module.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType


def lazy_module(name: str) -> ModuleType:
    """``name``, executed on its first attribute access (``importlib.util.LazyLoader``)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module
