"""Detection quality on synthetic series with planted anomalies (the generator of ``make
bench``, a smaller fixed draw): deterministic, not timed."""

from __future__ import annotations

from tests.bench.anomalies import evaluate, generate


def test_planted_anomalies_are_found_and_false_alarms_are_rare() -> None:
    score = evaluate(generate(40, seed=5))
    assert score.events >= 60  # spikes and steps of every kind were planted
    assert score.detection_rate >= 0.9
    assert score.false_positives_per_1000 <= 2.0
