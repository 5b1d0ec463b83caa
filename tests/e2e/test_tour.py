"""The README's tour, through the real app: award, redeem, read balance and passbook."""

from __future__ import annotations

from tests.scenario import Town, ok


class TestTour:
    def test_award_redeem_then_balance_and_passbook(self, client):
        world = Town.standard(client)
        world.award(30)
        redemption = ok(world.redeem(12), 201)
        assert redemption["balance_after"] == 18
        assert redemption["merchant_id"] == world.merchant_id

        balance = world.balance()
        assert (balance["points"], balance["points_available"], balance["points_earned"]) == (
            18, 18, 30)

        passbook = ok(client.get(f"/v1/members/{world.member_id}/passbook", headers=world.member))
        assert [(i["kind"], i["amount"], i["balance_after"]) for i in passbook["items"]] == [
            ("redemption", -12, 18), ("award", 30, 30)]
