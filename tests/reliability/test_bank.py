"""Jepsen's bank test and a hot account, through a real `linli serve`.

Bank: tills redeem and refund among a fixed set of members and merchants; an auditor reads
every balance at one event position, again and again: each read sums to the total and none
is below zero. Hot account: 50 tills on one member at once; each answer comes within seconds
and the final balance is exact.
"""

from __future__ import annotations

from harness.scenarios import bank, hot_account


class TestBank:
    def test_every_audit_sums_to_the_total_and_nothing_goes_negative(self, shared_served):
        figures = bank(shared_served, clients=6, seconds=6, seed=9)

        print(figures.line("bank"))
        assert figures.problems == []
        assert figures.operations > 50 and figures.audits > 10


class TestHotAccount:
    def test_fifty_tills_on_one_member_resolve_quickly_and_exactly(self, shared_served):
        figures = hot_account(shared_served, clients=50, rounds=2, within_seconds=10)

        print(figures.line("hot"))
        assert figures.problems == []
        assert figures.operations == 100
