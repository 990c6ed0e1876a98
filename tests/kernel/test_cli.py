"""The `uring` command: probe (table and --json) and demo, run as a user would."""
from __future__ import annotations

import json
import subprocess
import sys

from uring._uapi import Opcode


def uring(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "uring", *args], capture_output=True, text=True, timeout=120)


def test_probe_json_lists_every_opcode_with_its_helper():
    proc = uring("probe", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert [o["number"] for o in doc["opcodes"]] == [int(op) for op in Opcode]
    by_name = {o["name"]: o for o in doc["opcodes"]}
    assert set(by_name["IORING_OP_READ"]) >= {"name", "number", "supported", "helper"}
    assert by_name["IORING_OP_READ"]["supported"] is True
    assert by_name["IORING_OP_READ"]["helper"] == "read"
    assert by_name["IORING_OP_RECV_ZC"]["helper"] == "recv_zc"  # ours: liburing has none
    missing = [o["name"] for o in doc["opcodes"] if o["helper"] is None]
    assert missing == [], f"opcodes without a prep helper: {missing}"


def test_probe_table():
    proc = uring("probe")
    assert proc.returncode == 0, proc.stderr
    assert "IORING_OP_NOP" in proc.stdout and "setup flags:" in proc.stdout


def test_demo_runs_and_verifies_its_data():
    proc = uring("demo")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "data verified" in proc.stdout
    assert "CQEs in order [('read', 65536), ('write', 65536), ('fsync', 0)]" in proc.stdout
    assert "FileNotFoundError" in proc.stdout
