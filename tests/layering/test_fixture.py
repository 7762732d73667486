#!/usr/bin/env python3
"""Shows the layering check can fail: runs check_layering.py on fixture/ (a
tree with two wrong includes, see fixture/README.md) with the real rules and
requires exit status 1 and exactly these two findings, by file and line."""

import os
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
expected = [
    'arena/domain/ballot.hpp:6: include "arena/http/server.hpp" is not allowed in arena/domain (rule ',
    'arena/store/vote_store.cpp:4: include "boost/beast/http.hpp" is not allowed in arena/store (rule ',
]
run = subprocess.run([sys.executable, os.path.join(here, "check_layering.py"), "--root", os.path.join(here, "fixture"),
                      "--rules", os.path.join(here, "rules.txt")], capture_output=True, text=True)
print(run.stdout, end="")
print(run.stderr, end="", file=sys.stderr)
findings = [line for line in run.stdout.splitlines() if line.strip()]
failures = []
if run.returncode != 1:
    failures.append(f"exit status {run.returncode}, expected 1 (the fixture breaks the rules)")
for want in expected:
    if not any(line.startswith(want) for line in findings):
        failures.append(f"no finding starting with: {want}")
if len(findings) != len(expected):
    failures.append(f"{len(findings)} findings, expected {len(expected)} (allowed includes must not be named)")
for f in failures:
    print(f"test_fixture: {f}", file=sys.stderr)
sys.exit(1 if failures else 0)
