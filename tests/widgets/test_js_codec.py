"""The browser's decoder (static/dag.js) reads what Python encodes: checked with Node, if present."""

from __future__ import annotations

import json
import shutil
import subprocess
from array import array
from pathlib import Path

import pytest

from parsl_nb.widgets._codec import PATCH, decode, encode

DAG_JS = Path(__file__).parents[2] / "parsl_nb" / "widgets" / "static" / "dag.js"
SCRIPT = """
import { decode } from %s;
import { readFileSync } from "node:fs";
const b = readFileSync(process.argv[2]);  // decoded from byte 3: a DataView at an odd offset
const m = decode(new DataView(b.buffer, b.byteOffset + 3, b.byteLength - 3));
const out = {};
for (const [k, v] of Object.entries(m)) out[k] = ArrayBuffer.isView(v) ? Array.from(v) : v;
console.log(JSON.stringify(out));
"""


def test_node_decodes_what_python_encodes(tmp_path):
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    data = encode(PATCH, 9, 3, array("i", [3, 4, 5]), array("i", [0, 1, 1]), array("i", [0, 0, 7]),
                  array("H", [0, 1, 1]), bytes([6, 8, 9]), array("i", [0, 1, 1, 2]), [(0, 6), (2, 8)], 0,
                  ["load", "fit→"])
    (tmp_path / "msg.bin").write_bytes(b"xyz" + data)  # an odd offset, as a DataView into a larger buffer may be
    script = tmp_path / "read.mjs"
    script.write_text(SCRIPT % json.dumps(DAG_JS.as_uri()))
    out = json.loads(subprocess.run([node, str(script), str(tmp_path / "msg.bin")], check=True,
                                    capture_output=True, text=True).stdout)
    py = decode(data)
    assert (out["kind"], out["seq"], out["first"], out["appBase"]) == (py.kind, py.seq, py.first_node, py.app_base)
    assert out["tid"] == py.tid and out["layer"] == py.layer and out["slot"] == py.slot
    assert out["app"] == py.app and out["state"] == py.state and out["edges"] == py.edges
    assert out["ci"] == py.change_index and out["cs"] == py.change_state and out["apps"] == py.apps
