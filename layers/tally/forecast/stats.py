"""The statistics kernel: Student's t, the incomplete beta function behind it, small-matrix
helpers for least squares, and the mean of a normal censored at zero.

Pure Python in floats (estimates, not money movements): a handful of small matrices per series
does not justify numpy or scipy in a Lambda layer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 500):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return h


def _regularized_beta(a: float, b: float, x: float) -> float:
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    front = math.exp(log_front)
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def student_t_cdf(t: float, df: int) -> float:
    """P(T <= t) for Student's t with ``df`` degrees of freedom."""
    tail = 0.5 * _regularized_beta(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t >= 0 else tail


@lru_cache(maxsize=1024)
def student_t_quantile(p: float, df: int) -> float:
    """The ``p`` quantile (0.5 < p < 1) of Student's t, by bisection on the exact CDF."""
    if not 0.5 <= p < 1.0 or df < 1:
        raise ValueError("need 0.5 <= p < 1 and df >= 1")
    low, high = 0.0, 1.0
    while student_t_cdf(high, df) < p:
        high *= 2.0
    for _ in range(200):
        mid = (low + high) / 2.0
        if student_t_cdf(mid, df) < p:
            low = mid
        else:
            high = mid
        if high - low < 1e-12:
            break
    return (low + high) / 2.0


def invert(matrix: list[list[float]]) -> list[list[float]]:
    """Gauss-Jordan inverse with partial pivoting; raises on a singular matrix."""
    size = len(matrix)
    work = [[*row, *(1.0 if i == j else 0.0 for j in range(size))] for i, row in enumerate(matrix)]
    scale = max((abs(v) for row in matrix for v in row), default=1.0) or 1.0
    for col in range(size):
        pivot = max(range(col, size), key=lambda r: abs(work[r][col]))
        if abs(work[pivot][col]) < 1e-12 * scale:
            raise ZeroDivisionError("singular design matrix")
        work[col], work[pivot] = work[pivot], work[col]
        factor = work[col][col]
        work[col] = [v / factor for v in work[col]]
        for row in range(size):
            if row != col and work[row][col] != 0.0:
                ratio = work[row][col]
                work[row] = [v - ratio * p for v, p in zip(work[row], work[col], strict=True)]
    return [row[size:] for row in work]


def quad(vector: Sequence[float], matrix: Sequence[Sequence[float]]) -> float:
    """The quadratic form v'Mv (a prediction's leverage, with M = (X'X)^-1)."""
    return sum(
        vector[i] * sum(matrix[i][j] * vector[j] for j in range(len(vector)))
        for i in range(len(vector))
    )


def _normal_cdf(z: float) -> float:
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


def censored_mean(mean: float, sd: float) -> float:
    """E[max(X, 0)] for X ~ N(mean, sd^2): a cost's expectation when it cannot go below zero."""
    if sd <= 0.0:
        return max(mean, 0.0)
    z = mean / sd
    density = math.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
    return max(mean * _normal_cdf(z) + sd * density, 0.0)
