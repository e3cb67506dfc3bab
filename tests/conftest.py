"""Shared fixtures: a fresh seeded lab per test, closed afterwards; a moto server on 127.0.0.1."""

from __future__ import annotations

import pytest
from moto.server import ThreadedMotoServer

from lambda_lab import Lab


@pytest.fixture
def lab():
    with Lab(seed=0) as fresh:
        yield fresh


@pytest.fixture(scope="module")
def moto_server():
    """The URL of a moto server on 127.0.0.1 (a free port), for tests of ``Lab(endpoint_url=...)``."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()
