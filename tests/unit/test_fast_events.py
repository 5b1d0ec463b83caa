"""`LedgerAggregate`'s shortcut gives the events and the state the library's own path gives."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.domain import OriginatorIDError, OriginatorVersionError

from ledger import ids
from ledger.actor import Actor, Role
from ledger.domain import base
from ledger.domain.accounts import Account
from ledger.domain.assets import Asset, OwnerKind, PostingKind
from ledger.domain.holds import Hold
from ledger.domain.idempotency import IdempotencyRecord
from ledger.domain.redemptions import Redemption

STAFF = Actor(id="staff-fast", role=Role.STAFF)
TILL = Actor(id="till-fast", role=Role.MERCHANT)
OWNER, MERCHANT, COMMUNITY = uuid4(), uuid4(), uuid4()
CREDIT, DEBIT, HOLD, REFUND = uuid4(), uuid4(), uuid4(), uuid4()


def scenario() -> list[Any]:
    """Every kind of event a redemption at the till triggers, and a few more."""
    account = Account.open(OWNER, OwnerKind.MEMBER, COMMUNITY, Asset.POINTS, STAFF)
    account.post(amount=30, kind=PostingKind.AWARD, transaction_id=CREDIT,
                 counter_account="system:issued", by=STAFF, description="志愿服务",
                 cap_keys=["GIFT|D|2026-03-10"],
                 new_lots=[["a", 10, "2026-06-30T16:00:00+00:00"], ["b", 20, None]])
    account.place_hold(HOLD, 5, TILL)
    taken = account.post(amount=-12, kind=PostingKind.REDEMPTION, transaction_id=DEBIT,
                         counter_account="account:x", by=TILL, reference="redemption:1",
                         redeemed_on="2026-03-10")
    account.release_hold(HOLD, "voided", TILL)
    redemption = Redemption(merchant_id=MERCHANT, member_id=OWNER, community_id=COMMUNITY,
                            points=12, description="超市 \"quoted\" \\ \n", actor_id=TILL.id,
                            actor_role=TILL.role.value, lots_taken=taken)
    redemption.refund(REFUND, 4, redemption.lots_to_return(4), TILL)
    record = IdempotencyRecord(principal_id="key:1", key="k-1", fingerprint="f",
                               status_code=201, body='{"id":"1"}')
    hold = Hold(merchant_id=MERCHANT, member_id=OWNER, community_id=COMMUNITY, points=3,
                expires_at=redemption.modified_on, actor_id=TILL.id, actor_role="merchant")
    return [account, redemption, record, hold]


@pytest.fixture
def library_only() -> Iterator[None]:
    """The library's own `trigger_event` and `_create` for every event, for comparison."""
    with base.librarys_own_way():
        yield


RANDOM = {"timestamp", "originator_id", "_created_on", "_modified_on", "_id", "expires_at"}


def _facts(aggregates: list[Any]) -> list[Any]:
    """Each aggregate's state and its events' classes and attributes, in order, less times and
    random ids."""
    def plain(obj: Any) -> list[tuple[str, Any]]:
        return [(k, v) for k, v in vars(obj).items() if k not in RANDOM]

    return [(type(a), [(k, v) for k, v in plain(a) if k != "_pending_events"],
             [(type(e), plain(e)) for e in a.pending_events]) for a in aggregates]


def test_the_shortcut_gives_the_librarys_events_and_state(
        request: pytest.FixtureRequest) -> None:
    fast = _facts(scenario())
    assert base._shortcuts[Account.Posted] is not None  # the shortcut was taken
    assert base._creations[(Redemption, Redemption.Made)] is not None
    request.getfixturevalue("library_only")
    library = _facts(scenario())
    assert base._shortcuts[Account.Posted] is None
    assert fast == library


def test_make_gives_the_redemption_the_librarys_call_gives(
        request: pytest.FixtureRequest) -> None:
    fields: dict[str, Any] = {
        "merchant_id": MERCHANT, "member_id": OWNER, "community_id": COMMUNITY, "points": 7,
        "description": "超市", "actor_id": TILL.id, "actor_role": TILL.role_value,
        "lots_taken": [["a", -7, None]]}
    made = _facts([Redemption.make(**fields), Redemption.make(**fields, hold_id=HOLD)])
    request.getfixturevalue("library_only")
    called = _facts([Redemption(**fields), Redemption(**fields, hold_id=HOLD)])
    assert made == called


def test_a_replay_by_the_library_gives_the_state_the_shortcut_built() -> None:
    for aggregate in scenario():
        events = aggregate.collect_events()
        replayed = None
        for event in events:
            replayed = event.mutate(replayed)
        assert vars(replayed) == vars(aggregate)


@pytest.mark.parametrize("call", [
    lambda a: a.trigger_event(Account.HoldPlaced, hold_id="h", points=1, held_after=1,
                              actor_id="x"),  # a field missing
    lambda a: a.trigger_event(Account.HoldPlaced, hold_id="h", points=1, held_after=1,
                              actor_id="x", actor_role="y", colour="red"),  # an unknown one
])
def test_a_call_the_shortcut_cannot_vouch_for_gets_the_librarys_error(
        call: Callable[[Account], None]) -> None:
    account = Account.open(uuid4(), OwnerKind.MEMBER, COMMUNITY, Asset.POINTS, STAFF)
    with pytest.raises(TypeError, match="Can't construct event"):
        call(account)
    assert account.version == 1 and len(account.pending_events) == 1


def test_a_failing_method_changes_nothing() -> None:
    account = Account.open(uuid4(), OwnerKind.MEMBER, COMMUNITY, Asset.POINTS, STAFF)
    with pytest.raises(KeyError):
        account._hold_released(hold_id="none", points=1, reason="r", held_after=0,
                               actor_id="x", actor_role="y")
    assert account.version == 1 and len(account.pending_events) == 1


def test_ids_of_created_aggregates_come_from_create_id() -> None:
    record = IdempotencyRecord(principal_id="p", key="k", fingerprint="f", status_code=200,
                               body="")
    assert record.id == ids.idempotency_record_id("p", "k")
    assert isinstance(Redemption(merchant_id=MERCHANT, member_id=OWNER, community_id=COMMUNITY,
                                 points=1, description="", actor_id="a",
                                 actor_role="b").id, UUID)


def _replayed(events: list[Any], apply: Callable[[Any, Any], Any]) -> Any:
    aggregate = None
    for event in events:
        aggregate = apply(event, aggregate)
    return aggregate


def test_a_replay_by_the_shortcut_gives_the_state_the_librarys_replay_gives() -> None:
    aggregates = scenario()
    base._forget_shortcuts()  # made again by the replays alone
    for aggregate in aggregates:
        events = aggregate.collect_events()
        fast = _replayed(events, base.apply_stored)
        library = _replayed(events, lambda event, a: event.mutate(a))
        assert vars(fast) == vars(library) == vars(aggregate)
    assert base._shortcuts[Account.Posted] is not None  # the shortcut was taken


def test_an_event_stored_before_a_field_was_added_is_replayed_with_its_default() -> None:
    account, *_ = scenario()
    events = account.collect_events()
    posted = next(e for e in events if isinstance(e, Account.Posted) and e.restricted_delta == 0)
    del posted.__dict__["restricted_delta"]  # as if stored before there was such a field

    replayed = _replayed(events, base.apply_stored)

    assert vars(replayed) == vars(_replayed(events, lambda event, a: event.mutate(a)))
    assert replayed.restricted == account.restricted


@pytest.mark.parametrize("change, error", [
    ({"originator_version": 5}, OriginatorVersionError),
    ({"originator_id": uuid4()}, OriginatorIDError),
])
def test_an_event_out_of_its_place_is_refused_as_the_library_refuses_it(
        change: dict[str, Any], error: type[Exception]) -> None:
    account, *_ = scenario()
    created, posted, *_ = account.collect_events()
    opened = base.apply_stored(created, None)
    posted.__dict__.update(change)

    with pytest.raises(error):
        base.apply_stored(posted, opened)
    assert opened.version == 1


def _applied_by_fields(events: list[Any]) -> Any:
    """A replay as verify's rebuild makes it: each event after the first by its fields."""
    aggregate = base.apply_stored(events[0], None)
    for event in events[1:]:
        applier = base.fields_applier(type(event))
        if applier is None or not applier(aggregate, dict(vars(event))):
            aggregate = base.apply_stored(event, aggregate)
    return aggregate


def test_applying_events_by_their_fields_gives_the_state_apply_stored_gives() -> None:
    aggregates = scenario()
    for aggregate in aggregates:
        events = aggregate.collect_events()
        assert vars(_applied_by_fields(events)) == vars(_replayed(events, base.apply_stored))
    assert base.fields_applier(Account.Posted) is not None

    account, *_ = scenario()
    events = account.collect_events()
    posted = next(e for e in events if isinstance(e, Account.Posted) and e.restricted_delta == 0)
    del posted.__dict__["restricted_delta"]  # stored before the field: `apply_stored`'s way
    applier = base.fields_applier(Account.Posted)
    assert applier is not None
    opened = base.apply_stored(events[0], None)
    assert not applier(opened, dict(vars(posted))) and opened.version == 1
    assert vars(_applied_by_fields(events)) == vars(_replayed(events, base.apply_stored))

    created, posted, *_ = scenario()[0].collect_events()
    opened = base.apply_stored(created, None)
    with pytest.raises(OriginatorVersionError):
        applier(opened, {**vars(posted), "originator_version": 5})
    with pytest.raises(OriginatorIDError):
        applier(opened, {**vars(posted), "originator_id": uuid4()})
    assert opened.version == 1
