"""Lots: spends, expiries and refunds give exactly what the plain definition gives (every lot
looked at, sorted afresh), while a spend looks only at the lots it takes from."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.domain import lots

# --- the plain definition: what `lots` did before a spend stopped looking at every lot -------
# (`lots.rebuilt` is `apply`'s.)


def plain_take(held: list[Any], amount: int, first: str | None = None) -> list[Any]:
    """Take from the lots sorted afresh: lot `first`, then by expiry, then by arrival."""
    return lots.take(sorted(held, key=lambda lot: (lot[0] != first, lot[2] or lots.NEVER)),
                     amount)


def plain_next_expiry(held: list[Any]) -> tuple[str | None, int]:
    dated = [lot for lot in held if lot[2] is not None and lot[1] > 0]
    if not dated:
        return None, 0
    first = min(lot[2] for lot in dated)
    return first, sum(lot[1] for lot in dated if lot[2] == first)


# --- a member's lots, built by what happens to an account --------------------------------
EXPIRIES = [None] + [lots.instant(datetime(2027, month, 1, tzinfo=UTC)) for month in (1, 3, 6)]
steps = st.lists(st.one_of(
    st.tuples(st.just("award"), st.integers(1, 50), st.sampled_from(EXPIRIES)),
    st.tuples(st.just("spend"), st.integers(1, 120), st.none()),
    st.tuples(st.just("reverse"), st.integers(1, 60), st.integers(0, 30)),
    st.tuples(st.just("expire"), st.integers(1, 7), st.none()),
    st.tuples(st.just("refund"), st.integers(1, 40), st.integers(0, 30)),
), max_size=60)


@settings(max_examples=300, deadline=None)
@given(steps)
def test_lots_follow_the_plain_definition(history):
    held: list[Any] = []
    for n, (what, amount, extra) in enumerate(history):
        if what == "award":
            changes = [[f"award-{n}", amount, extra]]
        elif what == "spend":
            changes = lots.take(held, amount)
            assert changes == plain_take(held, amount)
        elif what == "reverse":  # an award's reversal takes from that award's lot first
            first = f"award-{extra}"
            changes = lots.take(held, amount, first)
            assert changes == plain_take(held, amount, first)
        elif what == "expire":
            changes = lots.due(held, datetime(2027, amount, 1, tzinfo=UTC))
        else:  # a refund gives back to a lot that may be gone
            changes = [[f"award-{extra}", amount, EXPIRIES[extra % len(EXPIRIES)]]]
        after = lots.apply(held, changes)
        assert after == lots.rebuilt(held, changes)
        assert lots.next_expiry(after) == plain_next_expiry(after)
        held = after


def test_a_spend_leaves_the_lots_it_does_not_take_from_as_they_were():
    held = lots.apply([], [[f"award-{i}", 5, EXPIRIES[1 + i % 3]] for i in range(1_000)])

    changes = lots.take(held, 7)
    after = lots.apply(held, changes)

    assert [c[0] for c in changes] == ["award-0", "award-3"]
    assert after[0] == ["award-3", 3, EXPIRIES[1]] and len(after) == 999
    assert all(a is b for a, b in zip(after[1:], held[2:], strict=True))
    assert held[0] == ["award-0", 5, EXPIRIES[1]]  # the lots before are not changed


def test_an_award_that_sorts_last_is_added_without_copying_the_lots_before():
    """A history in date order (an import): each award's lot goes after the others."""
    held = lots.apply([], [["award-0", 5, EXPIRIES[1]]])
    held = lots.apply(held, [["award-1", 4, EXPIRIES[1]]])  # the same instant: by arrival
    held = lots.apply(held, [["award-2", 3, EXPIRIES[3]]])

    after = lots.apply(held, [["award-3", 2, None]])

    assert after == lots.rebuilt(held, [["award-3", 2, None]])
    assert [lot[0] for lot in after] == ["award-0", "award-1", "award-2", "award-3"]
    assert all(a is b for a, b in zip(after, held, strict=False))
    assert lots.apply(after, [["award-1", 2, EXPIRIES[1]]])[1] == ["award-1", 6, EXPIRIES[1]]
