"""Shared fixtures: a fresh seeded lab per test, closed afterwards."""

from __future__ import annotations

import pytest

from lambda_lab import Lab


@pytest.fixture
def lab():
    with Lab(seed=0) as fresh:
        yield fresh
