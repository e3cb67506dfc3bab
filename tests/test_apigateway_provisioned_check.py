"""Chapter 05's exercise 3: the provisioned concurrency that keeps a day of checkout bursts warm.

The check plays the day over real HTTP (each burst's customers in parallel) with the learner's
number and with one less; a lab of its own, because the check needs environments that retire.
"""

from __future__ import annotations

import pytest

from lambda_lab import Lab
from lambda_lab.check import apigateway as check
from verdicts import assert_not_yet

LARGEST_BURST = max(customers for _, customers in check.EX3_BURSTS)


@pytest.fixture(scope="module")
def lab():
    with Lab(seed=0, environment_idle_s=600) as shared:
        yield shared


def test_the_largest_burst_passes_twice(lab):
    assert check.provisioned_size(lab, LARGEST_BURST)
    assert check.provisioned_size(lab, LARGEST_BURST)  # a second run finds the lab as it left it
    assert not any(type(s).__name__ == "Api" for s in lab.sources)


@pytest.mark.parametrize("wrong, hint", [
    (0, "waited for a cold start"),                                  # the starter: nothing provisioned
    (LARGEST_BURST - 1, "look at the largest burst"),                # one short of the peak
    (round(sum(c for _, c in check.EX3_BURSTS) / len(check.EX3_BURSTS)), "waited for a cold start"),  # the mean
    (LARGEST_BURST + 1, f"{LARGEST_BURST} would keep every checkout warm too"),   # one too many: paid for nothing
    (sum(c for _, c in check.EX3_BURSTS), "not requests per day"),   # the day's requests
    (str(LARGEST_BURST), "whole number"),
    (float(LARGEST_BURST), "whole number"),
    (-1, "whole number"),
    (True, "whole number"),
])
def test_wrong_answers_fail_with_a_hint(lab, wrong, hint):
    assert_not_yet(check.provisioned_size(lab, wrong), hint)


def test_a_lab_that_never_retires_environments_is_named():
    with Lab(seed=0) as plain:
        assert_not_yet(check.provisioned_size(plain, LARGEST_BURST), "environment_idle_s")
