"""An activity's attendance and the minutes each attendee earns, without I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from ledger.actor import Actor, Role
from ledger.domain.activities import Activity
from ledger.errors import (
    ActivityClosed,
    AlreadyCheckedIn,
    AlreadyCheckedOut,
    CheckInCodeInvalid,
    CheckInOutsideWindow,
    NotCheckedIn,
)

START = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
STAFF = Actor(id="staff", role=Role.STAFF)


def activity() -> Activity:
    return Activity(community_id=uuid4(), title="清扫楼道", place="", starts_at=START,
                    ends_at=START + timedelta(hours=2), rule_code=None, timebank=True,
                    check_in_code="abc", actor_id="staff", actor_role="staff")


def minutes(arrive: int, leave: int) -> int | None:
    a, member = activity(), uuid4()
    a.check_in(member, START + timedelta(minutes=arrive), STAFF)
    a.check_out(member, START + timedelta(minutes=leave, seconds=59), STAFF)
    return a.minutes_of(str(member))


def test_minutes_count_within_the_window_in_whole_minutes() -> None:
    assert minutes(-30, 60) == 60
    assert minutes(10, 70) == 60
    assert minutes(100, 300) == 20
    assert minutes(0, 0) == 0


def test_refusals() -> None:
    a, member = activity(), uuid4()
    with pytest.raises(CheckInOutsideWindow):
        a.check_in(member, START - timedelta(minutes=31), STAFF)
    with pytest.raises(CheckInOutsideWindow):
        a.check_in(member, START + timedelta(hours=2, seconds=1), STAFF)
    with pytest.raises(NotCheckedIn):
        a.check_out(member, START, STAFF)
    with pytest.raises(CheckInCodeInvalid):
        a.check_code("abd")
    a.check_in(member, START, STAFF)
    assert a.minutes_of(str(member)) is None
    with pytest.raises(AlreadyCheckedIn):
        a.check_in(member, START, STAFF)
    a.check_out(member, START, STAFF)
    with pytest.raises(AlreadyCheckedOut):
        a.check_out(member, START, STAFF)
    a.close({}, START, STAFF)
    with pytest.raises(ActivityClosed):
        a.close({}, START, STAFF)
