"""Queueing-theory formulas the validation tests compare the model with.

Notation: ``lam`` arrival rate, ``mu`` service rate of one server (any time unit, the same
for both), ``c`` servers, offered load ``a = lam / mu`` (Erlangs), utilisation
``rho = a / c``. Every function needs a stable queue (``a < c``) and raises ValueError
otherwise.

References: Gross, Shortle, Thompson & Harris, *Fundamentals of Queueing Theory* (4th ed.),
sections 2.3 (M/M/c) and 3.4.1 (non-preemptive priorities, Cobham 1954).
"""

from __future__ import annotations

import math
from typing import Sequence


def _check_stable(c: int, a: float) -> None:
    if c < 1 or int(c) != c:
        raise ValueError(f"c must be a whole number >= 1, not {c!r}")
    if not 0 <= a < c:
        raise ValueError(f"offered load a={a!r} must lie in [0, c={c}) for a stable queue")


def erlang_b(c: int, a: float) -> float:
    """Erlang B: the blocking probability of M/M/c/c with offered load ``a``.

    By the stable recursion B(0) = 1, B(k) = a B(k-1) / (k + a B(k-1)).
    """
    if c < 0 or int(c) != c:
        raise ValueError(f"c must be a whole number >= 0, not {c!r}")
    b = 1.0
    for k in range(1, int(c) + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c(c: int, a: float) -> float:
    """Erlang C: the probability P_W that an arrival to M/M/c must wait (all c busy),

        P_W = (a^c / c!) * c / (c - a)  /  ( sum_{k<c} a^k / k!  +  (a^c / c!) * c / (c - a) ),

    computed from Erlang B as P_W = c B / (c - a (1 - B)), which does not overflow.
    """
    _check_stable(c, a)
    b = erlang_b(c, a)
    return c * b / (c - a * (1.0 - b))


def mmc_wait(lam: float, mu: float, c: int) -> float:
    """Mean wait in queue of M/M/c FIFO: Wq = P_W / (c mu - lam)."""
    _check_stable(c, lam / mu)
    return erlang_c(c, lam / mu) / (c * mu - lam)


def mmc_queue_length(lam: float, mu: float, c: int) -> float:
    """Mean number waiting in M/M/c (Little's law): Lq = lam Wq."""
    return lam * mmc_wait(lam, mu, c)


def cobham_waits(lams: Sequence[float], mu: float, c: int) -> list[float]:
    """Mean wait in queue of each class of a non-preemptive priority M/M/c queue whose classes
    all have service rate ``mu``; ``lams`` are the classes' arrival rates, highest priority
    first. Cobham's formula:

        Wq_k = P_W / ( c mu (1 - sigma_{k-1}) (1 - sigma_k) ),   sigma_k = sum_{i<=k} lam_i / (c mu),

    with sigma_0 = 0 and P_W the Erlang C probability for the total load sum(lams) / mu.
    """
    if any(x < 0 for x in lams):
        raise ValueError(f"arrival rates must be >= 0, not {list(lams)!r}")
    total = float(sum(lams))
    _check_stable(c, total / mu)
    p_wait = erlang_c(c, total / mu)
    out, sigma_prev, cum = [], 0.0, 0.0
    for lam_k in lams:
        cum += lam_k
        sigma = cum / (c * mu)
        out.append(p_wait / (c * mu * (1.0 - sigma_prev) * (1.0 - sigma)))
        sigma_prev = sigma
    return out


def relaxation_time(lam: float, mu: float, c: int) -> float:
    """A rough relaxation time of M/M/c (the M/M/1 value 1 / (mu (1 - sqrt(rho))^2) with the
    pooled rate c mu): how long the queue takes to forget its start. Used to size warm-up
    and cool-down periods, not compared with anything."""
    rho = lam / (c * mu)
    _check_stable(c, lam / mu)
    return 1.0 / (c * mu * (1.0 - math.sqrt(rho)) ** 2)
