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


#: The longest tests (seconds of CPU each), in the order they should start. pytest-xdist hands
#: out the first quarter of the collection round-robin, so with two workers these alternate and
#: each worker starts with a similar share instead of one worker ending with two of them.
LONGEST_FIRST = (
    "test_sqs_fifo_every_message_ends_once",
    "test_s3_every_record_ends_once",
    "test_sqs_standard_every_message_ends_once",
    "test_sns_every_message_ends_once",
    "test_eventbridge_every_delivery_ends_once",
    "test_stream_every_record_ends_once_in_order",
    "test_async_every_event_ends_once",
)


def pytest_collection_modifyitems(items):
    rank = {name: n for n, name in enumerate(LONGEST_FIRST)}
    # stable: the rest keep their order (nbval's notebook cells have no originalname)
    items.sort(key=lambda item: rank.get(getattr(item, "originalname", None), len(rank)))
