"""The README's tour, through the real app: award, redeem by payment code, read balance and
passbook."""

from __future__ import annotations

from tests.scenario import Town, ok, problem_type


class TestTour:
    def test_award_redeem_by_code_then_balance_and_passbook(self, client):
        world = Town.standard(client, consent="payment_code")
        world.award(30)
        code = world.payment_code(headers=world.staff)  # made at the counter

        assert problem_type(world.redeem(12)) == "payment-code-required"
        redemption = ok(world.redeem(12, member_id=None, payment_code=code), 201)
        assert problem_type(world.redeem(12, member_id=None, payment_code=code)
                            ) == "payment-code-used"
        assert redemption["balance_after"] == 18
        assert redemption["merchant_id"] == world.merchant_id

        balance = world.balance()
        assert (balance["points"], balance["points_available"], balance["points_earned"]) == (
            18, 18, 30)

        passbook = ok(client.get(f"/v1/members/{world.member_id}/passbook", headers=world.member))
        assert [(i["kind"], i["amount"], i["balance_after"]) for i in passbook["items"]] == [
            ("redemption", -12, 18), ("award", 30, 30)]
