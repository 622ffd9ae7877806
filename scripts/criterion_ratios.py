#!/usr/bin/env python3
"""Prints each criterion benchmark's median beside the baselines of its group, as ratios.

Usage: scripts/criterion_ratios.py [target/criterion]
Within a group, benchmarks with the same input size are compared with the first one listed
for that size whose name starts with "picoring": ratio = other / picoring.
"""
import json
import pathlib
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "target/criterion")
rows = {}
for est in sorted(root.glob("**/new/estimates.json")):
    bench = json.loads((est.parent / "benchmark.json").read_text())
    median = json.loads(est.read_text())["median"]["point_estimate"]
    key = (bench["group_id"], bench.get("value_str") or "")
    rows.setdefault(key, []).append((bench["function_id"] or bench["value_str"], median))

for (group, size), benches in sorted(rows.items()):
    base = next((m for name, m in benches if name.startswith("picoring")), None)
    for name, median in benches:
        ratio = f"{median / base:6.3f}x" if base else ""
        print(f"{group:18} {size:>8} {name:20} {median:12.1f} ns  {ratio}")
