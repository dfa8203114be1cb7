"""The preference store contract, run against DynamoDB (moto) and the in-memory fake alike
(the ``stores`` fixture, tests/store/conftest.py)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tally.errors import Conflict
from tally.models import DigestCadence, Preferences
from tally.store import Stores
from tests.conftest import NOW


class TestPreferences:
    def test_none_until_saved(self, stores: Stores) -> None:
        assert stores.preferences.get("u-alice") is None

    def test_saved_and_read_back_versioned(self, stores: Stores) -> None:
        wanted = Preferences(
            "u-alice", email_alerts=False, digest=DigestCadence.WEEKLY, updated_at=NOW
        )
        saved = stores.preferences.put(wanted)
        assert saved == replace(wanted, version=1)
        got = stores.preferences.get("u-alice")
        assert got == saved and got.digest is DigestCadence.WEEKLY and got.email_alerts is False
        again = stores.preferences.put(replace(got, digest=DigestCadence.DAILY))
        assert again.version == 2
        assert stores.preferences.get("u-alice") == again
        assert stores.preferences.get("u-bob") is None

    def test_a_stale_version_conflicts(self, stores: Stores) -> None:
        read = stores.preferences.put(Preferences("u-alice"))
        stores.preferences.put(replace(read, digest=DigestCadence.DAILY))
        with pytest.raises(Conflict):
            stores.preferences.put(replace(read, email_alerts=False))
        final = stores.preferences.get("u-alice")
        assert final is not None and final.version == 2 and final.email_alerts is True
        assert final.digest is DigestCadence.DAILY

    def test_a_first_save_conflicts_when_someone_saved_first(self, stores: Stores) -> None:
        stores.preferences.put(Preferences("u-alice", digest=DigestCadence.DAILY))
        with pytest.raises(Conflict):
            stores.preferences.put(Preferences("u-alice", email_alerts=False))
        with pytest.raises(Conflict):  # a version never stored
            stores.preferences.put(Preferences("u-bob", version=3))
        got = stores.preferences.get("u-alice")
        assert got is not None and got.digest is DigestCadence.DAILY and got.email_alerts
        assert stores.preferences.get("u-bob") is None
