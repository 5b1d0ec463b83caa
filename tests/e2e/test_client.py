"""linli-client against the real server (uvicorn on a port): the till's calls with typed
answers, a retry after a lost answer that reuses the Idempotency-Key (charged once), problems
as `LinliError`, webhooks signed as the client checks them, the till example of docs/, and
`linli demo --sandbox`."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.bootstrap import open_linli
from harness.serving import serving
from linli_client import LinliClient, LinliError, RetryPolicy, parse_event
from tests.integration.test_cli import run
from tests.receiver import receiving, until
from tests.scenario import Town

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "till.py"


class LosesFirstAnswer(httpx.HTTPTransport):
    """Sends every request, but the first answer of each POST path is lost on the way back."""

    def __init__(self) -> None:
        super().__init__()
        self.lost: set[str] = set()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.method == "POST" and request.url.path not in self.lost:
            self.lost.add(request.url.path)
            response.read()
            raise httpx.ReadError("connection reset", request=request)
        return response


def test_a_till_on_the_client_against_the_real_server(client, linli):
    town = Town.standard(client, consent="payment_code")
    town.award(100)
    with serving(linli) as url, receiving() as hook:
        member = LinliClient(url, town.tokens["member"])
        flaky = LosesFirstAnswer()
        till = LinliClient(url, town.tokens["merchant"], transport=flaky,
                           retry=RetryPolicy(first_seconds=0.01))
        try:
            hooked = till.subscribe(hook.url, ["redemption.created", "redemption.refunded"])
            assert hooked.secret and hooked.merchant_id == town.merchant_id

            code = member.payment_code(town.member_id)
            paid = till.redeem(payment_code=code.code, points=15, description="大米5斤",
                               idempotency_key="till-1-receipt-0001")
            assert "/v1/redemptions" in flaky.lost  # the first answer was lost, then retried
            assert (paid.points, paid.balance_after) == (15, 85)
            assert member.balance(town.member_id).points == 85  # charged once

            refund = till.refund(paid.id, 5)
            assert refund.balance_after == 90
            with pytest.raises(LinliError) as refused:
                till.redeem(payment_code=member.payment_code(town.member_id).code,
                            points=1_000, description="电视机")
            assert (refused.value.status, refused.value.slug) == (409, "insufficient-balance")
            assert refused.value.detail  # in Chinese by default

            events = hook.wait_for(lambda e: len(e) >= 2)
            assert [e["type"] for e in events] == ["redemption.created", "redemption.refunded"]
            first = hook.acknowledged[0]
            assert parse_event(hooked.secret, first.signature, first.body).data["points"] == 15
            with pytest.raises(ValueError):
                parse_event("not-the-secret-at-all", first.signature, first.body)
            until(lambda: {d.status for d in till.deliveries(hooked.id)} == {"delivered"})

            example = _load_example()
            sold = example.sell(LinliClient(url, town.tokens["merchant"]),
                                member.payment_code(town.member_id).code, 10, "食用油")
            assert sold
            assert example.on_webhook(hooked.secret, first.signature, first.body).startswith(
                "redemption.created")
        finally:
            till.close()
            member.close()


def _load_example() -> Any:
    spec = importlib.util.spec_from_file_location("till_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_sandbox_gives_a_till_developer_everything_in_one_command(settings):
    made = run(settings.database_url, "demo", "--sandbox")
    assert made.returncode == 0, made.stderr
    said = dict(line.split(": ", 1) for line in made.stdout.splitlines()
                if ": " in line and not line.startswith(("#", "CODE", "curl")))
    member_id = said["member 沙箱居民"].split()[0]
    linli = open_linli(settings)
    linli.start()
    try:
        with serving(linli) as url, \
                LinliClient(url, said["member token (the resident's phone, makes payment codes)"]
                            ) as phone, \
                LinliClient(url, said["merchant token (yours, for the till)"]) as till:
            code = phone.payment_code(member_id)
            paid = till.redeem(payment_code=code.code, points=15, description="大米5斤")
            assert (paid.points, paid.balance_after) == (15, 985)
            with pytest.raises(LinliError) as named:  # the till needs the resident's consent
                till.redeem(member_id=member_id, points=1, description="挂面")
            assert named.value.slug == "payment-code-required"
    finally:
        linli.close()
