"""SQS duplicates, at-least-once sources and stream batch retries against closed forms."""

import pytest

from lambda_lab.sim import delivery, theory


@pytest.mark.parametrize("v_s,m", [(0.8, 5), (1.0, 5), (1.5, 3), (3.0, 5)])
def test_sqs_duplicates_match_p_d_gt_v(v_s, m):
    _, s = delivery.sqs_receives(100_000, v_s, median_duration_s=1.0, duration_cv=0.5, max_receive_count=m, seed=7)
    p = theory.p_exceeds_lognormal(v_s, 1.0, theory.lognormal_sigma(0.5))
    assert s.p_timeout == pytest.approx(p)
    assert s.duplicate_fraction == pytest.approx(p, abs=0.006)
    assert s.receives_per_message == pytest.approx(theory.sqs_receives_per_message(p, m), rel=0.01)
    assert s.dlq_fraction == pytest.approx(theory.sqs_dlq_fraction(p, m), abs=0.004)
    assert s.duplicates == s.receives - s.messages


def test_sqs_generous_timeout_has_no_duplicates():
    _, s = delivery.sqs_receives(20_000, 6.0, median_duration_s=0.5, duration_cv=0.3, seed=1)
    assert s.duplicates == 0 and s.dlq_fraction == 0


def test_sqs_receives_is_seeded():
    a, _ = delivery.sqs_receives(1000, 1.0, 1.0, seed=3)
    b, _ = delivery.sqs_receives(1000, 1.0, 1.0, seed=3)
    c, _ = delivery.sqs_receives(1000, 1.0, 1.0, seed=4)
    assert a.equals(b) and not a.equals(c)


def test_duplicate_curve_falls_with_v_over_d():
    df = delivery.duplicate_rate_curve([0.5, 1.0, 2.0, 4.0], messages=20_000, seed=2)
    assert df["duplicate_fraction"].is_monotonic_decreasing
    assert (df["duplicate_fraction"] - df["theory"]).abs().max() < 0.015


def test_at_least_once_rate():
    copies = delivery.at_least_once(200_000, 0.02, seed=5)
    assert (copies > 1).mean() == pytest.approx(0.02, abs=0.002)
    assert copies.min() == 1
    assert (delivery.at_least_once(10, 0.0, seed=5) == 1).all()
    with pytest.raises(ValueError):
        delivery.at_least_once(10, 1.0, seed=5)


def test_whole_batch_retry_matches_closed_form():
    _, s = delivery.stream_batch_retries(50_000, 10, 0.05, partial=False, seed=11)
    expected = theory.whole_batch_processings_per_record(10, 0.05)
    assert s["processings_per_record"] == pytest.approx(expected, rel=0.02)


def test_partial_batch_response_reprocesses_less():
    _, whole = delivery.stream_batch_retries(50_000, 100, 0.01, partial=False, seed=12)
    _, part = delivery.stream_batch_retries(50_000, 100, 0.01, partial=True, seed=12)
    assert part["processings_per_record"] < whole["processings_per_record"]
    # with checkpointing, a record is redone only when an earlier one in its batch failed
    assert part["processings_per_record"] < 1.6
    assert whole["processings_per_record"] == pytest.approx(1 / 0.99**100, rel=0.05)


def test_duplicate_curve_at_max_receive_count_one_has_no_duplicates_in_theory_either():
    df = delivery.duplicate_rate_curve([0.5, 1.0], messages=5_000, max_receive_count=1, seed=2)
    assert (df["duplicate_fraction"] == 0).all() and (df["theory"] == 0).all()
    assert (df["dlq_fraction"] > 0.2).all()  # what would have been duplicates went to the DLQ
