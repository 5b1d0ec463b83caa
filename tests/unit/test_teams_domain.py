"""Teams and orders dispatched to them, as aggregates: the first member to accept takes the
order; the catalogue names the codes it refuses."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from ledger.actor import Actor
from ledger.domain.service_orders import ServiceOrder
from ledger.domain.teams import ServiceCatalogue, Team
from ledger.errors import InvalidRequest, InvalidTransition, NotFound, ServiceNotInCatalogue

NOW = datetime(2098, 3, 10, 2, 0, tzinfo=UTC)
BY = Actor.system()


def test_the_first_member_to_accept_takes_a_team_order() -> None:
    community, first, second = uuid4(), uuid4(), uuid4()
    team = Team(community_id=community, name="小飞剪", actor_id="s", actor_role="staff")
    team.add(first, BY)
    team.add(second, BY)
    with pytest.raises(InvalidRequest):
        team.add(first, BY)
    order = ServiceOrder(requester_id=uuid4(), community_id=community, service_type="助餐",
                         description="", minutes_estimate=None, at=NOW, actor_id="s",
                         actor_role="staff")
    order.dispatch_to_team(team.id, NOW, BY)
    with pytest.raises(InvalidTransition):
        order.accept(NOW, BY)  # staff cannot accept for a team
    order.accept_for_team(first, NOW, BY)
    with pytest.raises(InvalidTransition):
        order.accept_for_team(second, NOW, BY)
    assert (order.status, order.volunteer_id, order.team_id) == ("accepted", first, team.id)
    team.remove(first, BY)
    with pytest.raises(NotFound):
        team.remove(first, BY)
    assert team.members == [str(second)]


def test_a_catalogue_refuses_a_code_it_does_not_list() -> None:
    catalogue = ServiceCatalogue(community_id=uuid4(), actor_id="s", actor_role="staff")
    catalogue.put("助餐", "助餐", 45, None, BY)
    assert catalogue.service("助餐")["default_minutes"] == 45
    with pytest.raises(ServiceNotInCatalogue, match="代购.*助餐"):
        catalogue.service("代购")
