"""Who may do what: the Cedar policy engine and the per-request authorizer.

This package is light on purpose: it imports no Cedar. ``tally.authz.engine`` (which loads
cedarpy, a Rust extension) is imported by ``tally.authz.authorizer`` on the first decision, so
a module that only names a ``Target`` or reads a ``Decision`` costs nothing at cold start.
See docs/authorization.md.
"""

from tally.authz.decision import AccessLine, Decision, GrantSource, Via
from tally.authz.target import Target

__all__ = ["AccessLine", "Decision", "GrantSource", "Target", "Via"]
