"""Queries on the event store that the library does not offer (`ledger.store`)."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from api.bootstrap import Linli
from ledger.actor import Actor, Role
from ledger.commands import points, registry
from ledger.domain.accounts import Account
from ledger.domain.assets import Asset
from ledger.store import latest_snapshots, latest_versions, load_aggregates

ADMIN = Actor("test:admin", Role.ADMIN)
AWARDS = 65  # the account crosses the snapshot interval (20) three times


@pytest.fixture
def member(linli: Linli) -> UUID:
    """A member whose points account has several snapshots, and events after the latest."""
    community = linli.writer.execute(registry.register_community("东湖社区", ADMIN)).id
    linli.writer.execute(registry.put_rule(
        community, "GIFT", name="助人", points=1, unit="each", daily_cap=None,
        monthly_cap=None, requires_approval=False, by=ADMIN))
    member_id = linli.writer.execute(registry.register_member(community, "王芳", None, None,
                                                              ADMIN)).id
    for _ in range(AWARDS):
        linli.writer.execute(points.award(member_id, "GIFT", quantity=1, minutes=None,
                                          occurred_at=None, note="", now=linli.clock(),
                                          by=ADMIN))
    return member_id


def test_an_aggregate_loads_from_its_latest_snapshot_and_the_events_after_it(linli, member):
    account_id = Account.create_id(member, Asset.POINTS)
    assert linli.app.snapshots is not None
    assert len(list(linli.app.snapshots.get(account_id))) >= 3

    loaded = load_aggregates(linli.app, [account_id, member, uuid4()])

    assert set(loaded) == {account_id, member}  # one that has no events is left out
    stored = linli.app.repository.get(account_id)
    assert (loaded[account_id].version, loaded[account_id].balance) == (stored.version, AWARDS)
    assert loaded[member].version == linli.app.repository.get(member).version


def test_the_latest_snapshot_of_each_stream_is_found_among_many(linli, member):
    account_id = Account.create_id(member, Asset.POINTS)
    assert linli.app.snapshots is not None
    versions = [s.originator_version for s in linli.app.snapshots.get(account_id)]
    assert len(versions) >= 3

    found = latest_snapshots(linli.app, [account_id, member, uuid4()])

    assert set(found) == {account_id}  # the member has too few events for a snapshot
    assert found[account_id].originator_version == max(versions)


def test_latest_versions_names_each_stream_that_has_events(linli, member):
    account_id = Account.create_id(member, Asset.POINTS)

    found = latest_versions(linli.app, [account_id, member, uuid4()])

    assert found == {account_id: linli.app.repository.get(account_id).version,
                     member: linli.app.repository.get(member).version}
