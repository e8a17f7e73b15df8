"""Erlang C (M/M/N queue): waiting probability, mean wait, service level, counters needed.

Pure functions, no I/O. ``traffic`` is the offered load A in Erlangs (arrival rate x mean
service time, in the same time unit); ``servers`` is N, the number of counters. Times
(``service_time``, ``target``) share one unit, whatever it is (minutes here).

Erlang B is computed by the stable recursion B(0) = 1, B(n) = A B(n-1) / (n + A B(n-1)),
and Erlang C from it: C = N B / (N - A (1 - B)). No factorials, so N in the hundreds is fine.
"""

from __future__ import annotations

import math

#: the staffing rule: at most this share of citizens may wait longer than the target
DEFAULT_MAX_LATE_SHARE = 0.2
MAX_SERVERS = 500


def _check(servers: int, traffic: float) -> None:
    if servers < 0 or traffic < 0 or math.isnan(traffic):
        raise ValueError("servers and traffic must be >= 0")


def erlang_b(servers: int, traffic: float) -> float:
    """Blocking probability of N servers offered A Erlangs without a queue (Erlang B)."""
    _check(servers, traffic)
    b = 1.0
    for n in range(1, servers + 1):
        b = traffic * b / (n + traffic * b)
    return b


def erlang_c(servers: int, traffic: float) -> float:
    """Probability that an arrival has to wait (Erlang C). 1.0 when A >= N (unstable)."""
    _check(servers, traffic)
    if traffic == 0:
        return 0.0
    if traffic >= servers:
        return 1.0
    b = erlang_b(servers, traffic)
    return servers * b / (servers - traffic * (1.0 - b))


def mean_wait(servers: int, traffic: float, service_time: float) -> float:
    """Expected wait in the queue over all arrivals: C x s / (N - A); inf when A >= N."""
    if traffic >= servers and traffic > 0:
        return math.inf
    return erlang_c(servers, traffic) * service_time / (servers - traffic) if traffic else 0.0


def service_level(servers: int, traffic: float, service_time: float, target: float) -> float:
    """Share of arrivals that wait at most ``target``: 1 - C e^{-(N - A) t / s}."""
    if traffic == 0:
        return 1.0
    if traffic >= servers or service_time <= 0:
        return 0.0 if service_time > 0 else 1.0
    return 1.0 - erlang_c(servers, traffic) * math.exp(-(servers - traffic) * target / service_time)


def required_servers(arrival_rate: float, service_time: float, target: float,
                     max_late_share: float = DEFAULT_MAX_LATE_SHARE) -> int:
    """The smallest N > A with P(wait > target) <= ``max_late_share`` (0 when nobody comes).

    ``arrival_rate`` and ``service_time`` in matching units (per minute and minutes, say).
    """
    if arrival_rate < 0 or service_time < 0 or target < 0:
        raise ValueError("rates and times must be >= 0")
    traffic = arrival_rate * service_time
    if traffic == 0:
        return 0
    servers = max(1, math.floor(traffic) + 1)
    while servers <= MAX_SERVERS:
        if 1.0 - service_level(servers, traffic, service_time, target) <= max_late_share:
            return servers
        servers += 1
    raise ValueError("the load needs more than MAX_SERVERS counters")
