"""The organisation: teams (nested: departments hold teams), roles and who holds them where.

``model`` holds the entities; the use cases (teams, roles, access, migration) sit beside it,
and the access table's store is ``tally.store.access``. Decisions are made by the policy engine
(``tally.authz``), never here."""
