"""Two Linli on one database in one test (as two servers behind a proxy): one leads the
periodic jobs, the leader's checkpoints cover what the other wrote, a stopping follower leaves
its writes sealed, a payment code made by one is known to the other, and each one's reads wait
for its writes whichever runner applied them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from uuid import uuid4

import pytest

from api.bootstrap import Linli
from ledger.errors import IdempotencyKeyReused, PaymentCodeInvalid
from ledger.payment_codes import CodeKey
from ledger.settings import Settings
from projections.verify import verify
from tests.conftest import running_linli
from tests.scenario import NOW, CommandTown


@pytest.fixture
def pair(settings: Settings) -> Iterator[tuple[Linli, Linli]]:
    with running_linli(settings) as first, running_linli(settings) as second:
        yield first, second


def test_one_leads_and_its_checkpoint_covers_what_the_other_wrote(pair):
    leader, other = pair
    assert (leader.leading, other.leading) == (True, False)
    assert leader.sealer is not None and other.sealer is not None
    town = CommandTown.found(leader)
    leader.sealer.seal()  # its own Sealed event follows: a pass must look past it
    member = town.add_member()
    elsewhere = CommandTown(other, town.community_id, town.staff, town.auditor)
    elsewhere.add_rule("GIFT", 1)
    elsewhere.award(member, "GIFT", quantity=3)

    sealed = leader.sealer.seal()

    assert sealed is not None and sealed >= other.writer.last_position
    report = verify(leader.app, leader.engine)
    assert report.ok, report.problems


def test_a_stopping_follower_seals_its_own_writes_when_the_leader_has_not(pair):
    leader, other = pair
    assert other.sealer is not None and leader.sealer is not None
    town = CommandTown.found(leader)
    leader.sealer.seal()
    other.sealer.start()  # as `linli serve` with a seal interval: stopped, it seals the tail
    CommandTown(other, town.community_id, town.staff, town.auditor).add_member()
    written = other.writer.last_position

    other.sealer.stop()

    assert other.sealer.sealed_through() >= written


def test_the_leaders_end_lets_the_other_take_the_jobs_over(pair):
    leader, other = pair
    leader.leader.stop()
    other.leader.tick()
    assert other.leading


def test_a_payment_code_made_by_one_is_taken_by_the_other(pair):
    first, second = pair
    member, community = uuid4(), uuid4()
    asked = CodeKey("key:phone", "k1", "request")
    made = first.payment_codes.make(member, community, NOW, "key:phone", asked)

    found = second.payment_codes.recall(made.code, NOW + timedelta(seconds=1))
    again = second.payment_codes.make(member, community, NOW, "key:phone", asked)

    assert (found.member_id, found.community_id, found.expires_at) == (
        member, community, made.expires_at)
    assert again == made
    with pytest.raises(IdempotencyKeyReused):
        second.payment_codes.make(member, community, NOW, "key:phone",
                                  CodeKey("key:phone", "k1", "another request"))
    with pytest.raises(PaymentCodeInvalid):
        second.payment_codes.recall(made.code, made.expires_at)


def test_reads_wait_for_their_writes_whichever_runner_applied_them(pair):
    first, second = pair
    town = CommandTown.found(first)
    member = town.add_member()
    assert first.read_your_writes()
    second.projections.wait_for(first.writer.last_position, 10)  # second's runner catches up
    elsewhere = CommandTown(second, town.community_id, town.staff, town.auditor)
    elsewhere.add_rule("GIFT", 1)
    elsewhere.award(member, "GIFT", quantity=2)
    assert first.projections.wait_for(second.writer.last_position, 10)

    assert second.read_your_writes()
    assert elsewhere.balance(member) == 2
