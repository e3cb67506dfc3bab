"""Chapter 08's cells against moto's threaded server on 127.0.0.1 print what in-process moto printed.

The endpoint is a setting: the kernel starts a ``ThreadedMotoServer`` (in its own process, so it
shares the virtual clock), makes ``Lab`` default to ``endpoint_url=<that server>``, then runs
every cell of the chapter as stored. The lab's clients and the handlers' own ``boto3`` clients
(through ``AWS_ENDPOINT_URL``, which the lab sets) all go over HTTP to the server; every output
must equal the stored one, which was made with in-process moto (but the queues' metrics, which
the lab samples from in-process moto's memory).
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient
from test_rerun import _comparable

CHAPTER = Path(__file__).resolve().parents[2] / "notebooks" / "08_to_the_cloud.ipynb"

SERVER_SETUP = '''
import logging

import lambda_lab
from moto.server import ThreadedMotoServer

logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access-log line per request otherwise

_server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
_server.start()
_url = "http://%s:%d" % _server.get_host_and_port()
_InProcessLab = lambda_lab.Lab


class _ServerLab(_InProcessLab):
    def __init__(self, seed=0, **options):
        options.setdefault("endpoint_url", _url)
        super().__init__(seed, **options)


lambda_lab.Lab = _ServerLab
'''

#: Cells whose output needs in-process moto: the queues' CloudWatch metrics are sampled from moto's
#: memory (``lambda_lab.metrics.QueueSampler``), so against a server the frame has no AWS/SQS rows.
IN_PROCESS_ONLY = ('metrics["namespace"] == "AWS/SQS"',)

CHECK_ENDPOINT = '''
import boto3
print(lab.endpoint_url == _url, boto3.client("sqs").meta.endpoint_url == _url)
'''


def test_chapter_08_against_a_moto_server_prints_the_stored_outputs():
    stored = nbformat.read(CHAPTER, as_version=4)
    fresh = nbformat.read(CHAPTER, as_version=4)
    client = NotebookClient(fresh, timeout=120, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(CHAPTER.parent)}})
    with client.setup_kernel():
        setup = nbformat.v4.new_code_cell(SERVER_SETUP)
        client.execute_cell(setup, 0)
        assert not [o for o in setup.outputs if o["output_type"] == "error"], setup.outputs
        probe = None
        for index, cell in enumerate(fresh.cells):
            if cell.cell_type != "code":
                continue
            if "lab.close()" in cell.source and probe is None:
                probe = nbformat.v4.new_code_cell(CHECK_ENDPOINT)
                client.execute_cell(probe, index)
            cell.outputs = []
            client.execute_cell(cell, index)
    assert probe is not None and probe.outputs[0]["text"] == "True True\n"  # it really ran against the server
    for index, (want, got) in enumerate(zip(stored.cells, fresh.cells)):
        if want.cell_type == "code" and "NBVAL_IGNORE_OUTPUT" not in want.source \
                and not any(marker in want.source for marker in IN_PROCESS_ONLY):
            assert _comparable(got) == _comparable(want), f"cell {index} differs against the server:\n{want.source}"
