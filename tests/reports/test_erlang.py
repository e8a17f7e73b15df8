"""Erlang C against independent formulas and published values."""

from __future__ import annotations

import math

import pytest

from onestop.reports import erlang


def erlang_c_direct(n: int, a: float) -> float:
    """The textbook sum, with factorials: P(wait) = (A^N/N! * N/(N-A)) / (sum_{k<N} A^k/k! + that)."""
    top = a ** n / math.factorial(n) * n / (n - a)
    return top / (sum(a ** k / math.factorial(k) for k in range(n)) + top)


@pytest.mark.parametrize(("n", "a"), [(1, 0.5), (2, 1.0), (3, 2.0), (7, 6.0), (12, 8.5), (55, 48.0)])
def test_erlang_c_matches_the_direct_formula(n: int, a: float) -> None:
    assert erlang.erlang_c(n, a) == pytest.approx(erlang_c_direct(n, a), rel=1e-10)


def test_closed_forms_of_small_systems() -> None:
    # M/M/1: P(wait) = rho; M/M/2: P(wait) = A^2 / (2 + A)
    assert erlang.erlang_c(1, 0.7) == pytest.approx(0.7)
    assert erlang.erlang_c(2, 1.0) == pytest.approx(1 / 3)
    assert erlang.erlang_c(3, 2.0) == pytest.approx(4 / 9)
    # M/M/1 mean wait: rho * s / (1 - rho)
    assert erlang.mean_wait(1, 0.5, 4.0) == pytest.approx(4.0)


def test_published_values() -> None:
    # Erlang B table (e.g. any teletraffic handbook's "Erlang B" table): 10 trunks offered
    # 5 Erlangs block 1.84 % of calls; 5 trunks offered 3 Erlangs block 11.0 %.
    assert erlang.erlang_b(10, 5.0) == pytest.approx(0.0184, abs=5e-5)
    assert erlang.erlang_b(5, 3.0) == pytest.approx(0.1101, abs=5e-5)
    # The classic call-centre example (callcentrehelper.com, "Erlang C formula – made
    # simple"): 360 calls per 30 minutes, 240 s handling -> A = 48 Erlangs; with 55 agents
    # P(wait) = 23.87 %, 86.68 % answered within 20 s, average speed of answer 8.18 s.
    a = 360 / 1800 * 240
    assert a == 48
    assert erlang.erlang_c(55, a) == pytest.approx(0.2387, abs=5e-5)
    assert erlang.service_level(55, a, 240, 20) == pytest.approx(0.8668, abs=5e-5)
    assert erlang.mean_wait(55, a, 240) == pytest.approx(8.18, abs=5e-3)


def test_overload_and_no_load() -> None:
    assert erlang.erlang_c(5, 5.0) == 1.0
    assert erlang.mean_wait(5, 6.0, 3.0) == math.inf
    assert erlang.service_level(5, 6.0, 3.0, 10) == 0.0
    assert erlang.erlang_c(3, 0.0) == 0.0
    assert erlang.required_servers(0.0, 5.0, 15) == 0
    with pytest.raises(ValueError):
        erlang.erlang_b(-1, 2.0)


def test_required_servers_is_the_smallest_meeting_the_rule() -> None:
    # lambda = 2/min, mean service 3 min -> A = 6 Erlangs; P(wait) with 7 counters = 0.6138
    assert erlang.erlang_c(7, 6.0) == pytest.approx(0.61383, abs=1e-5)
    for rate, minutes, target in [(2.0, 3.0, 0.5), (0.5, 12.0, 15.0), (48 / 4, 4.0, 0.25), (0.05, 5.0, 15.0)]:
        n = erlang.required_servers(rate, minutes, target)
        a = rate * minutes
        assert n > a
        assert 1 - erlang.service_level(n, a, minutes, target) <= 0.2
        if n - 1 > a:
            assert 1 - erlang.service_level(n - 1, a, minutes, target) > 0.2
    # 360 calls / half hour at 240 s, 80 % within 20 s
    assert erlang.required_servers(360 / 1800, 240, 20) == 54
