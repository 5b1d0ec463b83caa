"""Where a member and a household stood when each posting of a batch was made, for the boards.

The registry view has applied a whole batch before the leaderboards see it, so its tables say
where members and households are at the batch's end. A member who moved (or a household that
changed grid) within the batch counted elsewhere before: each move names where it came from,
so the state at a posting is the `from` of the first later move in the batch, or the registry's.
A move never reaches back: what was earned before it stays with the household and grid it was
earned in, in every period, and a rebuild gives the same, wherever its batches end.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eventsourcing.utils import get_topic

from ledger.domain.registry import Household, Member
from projections.view import Positioned

MEMBER_MOVED = get_topic(Member.Moved)  # type: ignore[attr-defined]
HOUSEHOLD_GRID_CHANGED = get_topic(Household.GridChanged)  # type: ignore[attr-defined]
TOPICS = (MEMBER_MOVED, HOUSEHOLD_GRID_CHANGED)


def _text(value: object) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True)
class Place:
    """Where a member was: its household and grid."""

    household_id: str | None
    grid_id: str | None


class Moves:
    """The moves of one batch, in log order."""

    def __init__(self) -> None:
        self.members: dict[str, list[tuple[int, Place]]] = {}  # member -> (position, from)
        self.households: dict[str, list[tuple[int, str | None]]] = {}  # -> (position, from)

    def add(self, item: Positioned) -> None:
        e = item.event
        if item.topic == MEMBER_MOVED:
            self.members.setdefault(item.originator, []).append(
                (item.position, Place(_text(e.from_household_id), _text(e.from_grid_id))))
        else:
            self.households.setdefault(item.originator, []).append(
                (item.position, _text(e.from_grid_id)))

    def household_ids(self) -> set[str]:
        """Every household a member of the batch was in before a move, and every household
        that changed grid: their grids must be known."""
        left = {p.household_id for moves in self.members.values() for _, p in moves
                if p.household_id}
        return left | set(self.households)

    def member_at(self, member_id: str, position: int, now: Any) -> Any:
        """The member's place at `position`: `now` (a row with household_id and grid_id,
        or None) unless it moved later in the batch."""
        for moved_at, before in self.members.get(member_id, ()):
            if moved_at > position:
                return before
        return now

    def household_grid_at(self, household_id: str, position: int, now: str | None
                          ) -> str | None:
        for moved_at, before in self.households.get(household_id, ()):
            if moved_at > position:
                return before
        return now
