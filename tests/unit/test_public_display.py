"""Opting out of public display (公示) is an event on the member, recorded once."""

from __future__ import annotations

from uuid import uuid4

from ledger.actor import Actor, Role
from ledger.domain.registry import Member

RESIDENT = Actor("key:resident", Role.MEMBER)


def new_member() -> Member:
    return Member(community_id=uuid4(), name="张小明", household_id=None, grid_id=None,
                  passbook_no="0001-000001", actor_id="staff", actor_role="staff")


class TestOptOut:
    def test_opting_out_and_back_in_are_events_naming_who(self):
        member = new_member()
        member.opt_out(RESIDENT)
        member.opt_out(RESIDENT)  # already out: nothing more is recorded
        assert member.opted_out
        member.opt_in(RESIDENT)
        member.opt_in(RESIDENT)
        assert not member.opted_out
        events = member.collect_events()
        assert [type(e).__name__ for e in events] == ["Registered", "OptedOut", "OptedIn"]
        assert (events[1].actor_id, events[1].actor_role) == ("key:resident", "member")

    def test_a_member_restored_without_the_attribute_reads_as_listed(self):
        member = new_member()
        del member.__dict__["opted_out"]  # as from a snapshot taken before opt-outs existed
        assert member.opted_out is False
