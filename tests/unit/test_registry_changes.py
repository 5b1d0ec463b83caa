"""Registry changes in memory: renames, moves and statuses as events, the refusals of an
inactive member and a closed merchant, a snapshot restoring them, and where the boards count a
posting around a move."""

from __future__ import annotations

from types import SimpleNamespace
from uuid import uuid4

import pytest

from ledger.actor import Actor, Role
from ledger.domain.registry import Community, Household, Member, Merchant
from ledger.errors import MemberInactive, MerchantClosed, NotFound
from projections import board_moves
from projections.view import Positioned

STAFF = Actor(id="staff-registry", role=Role.STAFF)


def member() -> Member:
    return Member(community_id=uuid4(), name="张三", household_id=None, grid_id=None,
                  passbook_no="0001-000001", actor_id=STAFF.id, actor_role=STAFF.role_value)


def test_a_member_changes_only_by_events_and_not_twice() -> None:
    m = member()
    home, grid = uuid4(), uuid4()
    m.rename("张三丰", "户籍核对", STAFF)
    m.rename("张三丰", "again", STAFF)
    m.move(home, grid, "", STAFF)
    m.move(home, grid, "", STAFF)
    m.set_status("moved_out", "迁出", STAFF)
    m.set_status("moved_out", "迁出", STAFF)
    names = [type(e).__name__ for e in m.collect_events()]
    assert names == ["Registered", "Renamed", "Moved", "StatusChanged"]
    assert (m.name, m.household_id, m.grid_id, m.status) == ("张三丰", home, grid, "moved_out")
    with pytest.raises(ValueError):
        m.set_status("retired", "", STAFF)


def test_an_inactive_member_and_a_closed_merchant_are_refused() -> None:
    m = member()
    m.check_active()
    m.set_status("deceased", "", STAFF)
    with pytest.raises(MemberInactive):
        m.check_active()
    shop = Merchant(community_id=uuid4(), name="超市", actor_id=STAFF.id,
                    actor_role=STAFF.role_value)
    shop.check_open()
    shop.set_status("closed", "", STAFF)
    with pytest.raises(MerchantClosed):
        shop.check_open()


def test_grids_renamed_and_ordered_households_moved() -> None:
    c = Community.register("湖滨", 1, STAFF)
    grid = c.add_grid("一网格", STAFF)
    c.rename_grid(grid, "第一网格", "", STAFF)
    c.order_grid(grid, 3, "", STAFF)
    assert (c.grids[str(grid)], c.grid_orders) == ("第一网格", {str(grid): 3})
    with pytest.raises(NotFound):
        c.rename_grid(uuid4(), "x", "", STAFF)
    h = Household(community_id=c.id, grid_id=None, address="1栋", actor_id=STAFF.id,
                  actor_role=STAFF.role_value)
    h.move_to_grid(grid, "", STAFF)
    h.change_address("2栋", "", STAFF)
    assert (h.grid_id, h.address) == (grid, "2栋")


def test_the_boards_count_a_posting_where_the_member_stood_then() -> None:
    moves = board_moves.Moves()
    old, new = str(uuid4()), str(uuid4())
    moved = SimpleNamespace(from_household_id=old, from_grid_id=None)
    moves.add(Positioned(10, board_moves.MEMBER_MOVED, moved, "m1"))
    now = SimpleNamespace(household_id=new, grid_id=None)
    assert moves.member_at("m1", 9, now).household_id == old
    assert moves.member_at("m1", 11, now) is now
    assert moves.member_at("m2", 9, now) is now
    assert moves.household_ids() == {old}
