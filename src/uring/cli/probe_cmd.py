"""`uring probe`: which opcodes, setup flags and features the running kernel has."""
from __future__ import annotations

import json
import sys


def run(args) -> int:
    from uring.probe import probe
    result = probe()
    doc = result.as_json()
    if args.json:
        json.dump(doc, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    supported = sum(1 for o in doc["opcodes"] if o["supported"])
    print(f"Linux {doc['kernel']}: {supported} of {len(doc['opcodes'])} opcodes, last_op={doc['last_op']}")
    print(f"features: {' '.join(doc['features']) or '(none)'}")
    print()
    print(f"{'#':>3}  {'opcode':<28} {'kernel':<8} helpers")
    for o in doc["opcodes"]:
        mark = "yes" if o["supported"] else "no"
        print(f"{o['number']:>3}  {o['name']:<28} {mark:<8} {', '.join(o['helpers']) or '-'}")
    print()
    print("setup flags:")
    for name, ok in doc["setup_flags"].items():
        state = {True: "yes", False: "no", None: "needs resources to try"}[ok]
        print(f"  {name:<32} {state}")
    return 0
