"""Measurement primitives that plumbing and capabilities record into; ``ops`` renders them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Summary:
    """A Prometheus summary without quantiles: how many observations and their sum
    (seconds for timings)."""

    count: int = 0
    total: float = 0.0

    def observe(self, value: float) -> None:
        self.count += 1
        self.total += value
