"""The per-connection command budget, driven by an explicit clock."""

from __future__ import annotations

from beerpi.protocol.rate_limit import CommandBudget


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_is_allowed_then_the_rate_holds():
    clock = Clock()
    budget = CommandBudget(rate=20, burst=20, clock=clock)
    assert all(budget.take() for _ in range(20))
    assert not budget.take()
    clock.now += 0.06  # a little more than one command's worth of time
    assert budget.take() and not budget.take()


def test_a_client_keeping_to_the_rate_is_never_refused():
    clock = Clock()
    budget = CommandBudget(rate=20, burst=20, clock=clock)
    for _ in range(1000):
        clock.now += 0.05
        assert budget.take()
    assert not budget.abusive


def test_ignoring_refusals_within_the_window_is_abuse():
    clock = Clock()
    budget = CommandBudget(rate=20, burst=1, abuse_refused=10, abuse_window=10, clock=clock)
    budget.take()
    for _ in range(9):
        assert not budget.take()
    assert not budget.abusive
    assert not budget.take()
    assert budget.abusive


def test_refusals_spread_beyond_the_window_are_not_abuse():
    clock = Clock()
    budget = CommandBudget(rate=0.01, burst=1, abuse_refused=10, abuse_window=10, clock=clock)
    budget.take()
    for _ in range(30):
        clock.now += 2.0  # a refused command every 2 s: 5 per window at most
        budget.take()
    assert not budget.abusive


def test_each_address_has_its_own_budget_and_the_table_stays_bounded():
    from beerpi.protocol.rate_limit import AddressBudgets
    clock = Clock()
    budgets = AddressBudgets(rate=20, burst=2, max_addresses=3, clock=clock)
    assert budgets.take("10.0.0.1") and budgets.take("10.0.0.1") and not budgets.take("10.0.0.1")
    assert budgets.take("10.0.0.2")  # another address is not held back by the first
    for n in range(3, 10):  # many addresses: the table forgets the least recently seen
        budgets.take(f"10.0.0.{n}")
    assert len(budgets) == 3
