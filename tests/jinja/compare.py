#!/usr/bin/env python3
"""Renders the Jinja case files with Python's jinja2 and with our engine
(the jinja_render_cases driver) and checks that the outputs are the same
bytes, that a case fails on both sides or on neither, and that every output
range our engine marks as coming from the variables is verbatim text of a
variable string.

Environments, as the real users build them:
  suite: lm-evaluation-harness's Environment(undefined=StrictUndefined,
         keep_trailing_newline=True) with a regex_replace filter (re.sub);
  chat:  transformers' ImmutableSandboxedEnvironment(trim_blocks=True,
         lstrip_blocks=True, extensions=[generation tag, loopcontrols]) with
         raise_exception, strftime_now (the case file's fixed clock, UTC)
         and tojson as json.dumps(ensure_ascii=False, ...).

usage: compare.py --driver PATH --templates DIR CASES.json...
"""
import argparse
import datetime
import json
import re
import subprocess
import sys

import jinja2
import jinja2.ext
import jinja2.sandbox
from jinja2 import nodes


def regex_replace(string, pattern, repl, count=0):
    return re.sub(pattern, repl, string, count=count)


def suite_environment(clock):
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    env.filters["regex_replace"] = regex_replace
    return env


class GenerationTag(jinja2.ext.Extension):
    """transformers' AssistantTracker when not tracking: renders the body."""

    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return nodes.CallBlock(self.call_method("_render", []), [], [], body).set_lineno(lineno)

    def _render(self, caller):
        return caller()


def chat_environment(clock):
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(format):
        return datetime.datetime.fromtimestamp(clock, datetime.timezone.utc).strftime(format)

    env = jinja2.sandbox.ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[GenerationTag, jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def variable_strings(value, out):
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, list):
        for v in value:
            variable_strings(v, out)
    elif isinstance(value, dict):
        for k, v in value.items():
            out.append(k)
            variable_strings(v, out)
    return out


def render_python(case, templates, clock):
    source = case.get("template")
    if source is None:
        with open(f"{templates}/{case['template_file']}", encoding="utf-8", newline="") as f:
            source = f.read()
    env = suite_environment(clock) if case["environment"] == "suite" else chat_environment(clock)
    try:
        return env.from_string(source).render(**case["variables"]), None
    except Exception as e:  # every failure counts: both sides must fail
        return None, f"{type(e).__name__}: {e}"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--driver", required=True)
    parser.add_argument("--templates", required=True)
    parser.add_argument("cases", nargs="+")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()

    total = equal = errors_both = 0
    failures = []
    for path in args.cases:
        with open(path, encoding="utf-8") as f:
            file = json.load(f)
        clock = file.get("clock", 0)
        run = subprocess.run([args.driver, path, args.templates], capture_output=True, check=False)
        if run.returncode != 0:
            print(run.stderr.decode(errors="replace"), file=sys.stderr)
            print(f"FAIL: driver exited with {run.returncode} on {path}")
            return 1
        ours = {r["name"]: r for r in json.loads(run.stdout)}
        for case in file["cases"]:
            total += 1
            name = case["name"]
            expected, expected_error = render_python(case, args.templates, clock)
            got = ours.get(name)
            if got is None:
                failures.append(f"{name}: missing from the driver's output")
                continue
            if expected_error is not None or "error" in got:
                if expected_error is not None and "error" in got:
                    errors_both += 1
                    if case.get("expect_error") is False:
                        failures.append(f"{name}: expected to render, both failed: {expected_error}")
                    elif args.verbose:
                        print(f"ok (both fail) {name}: ours {got['error']!r}; jinja2 {expected_error!r}")
                else:
                    failures.append(f"{name}: jinja2 error={expected_error!r} ours error={got.get('error')!r}")
                continue
            if case.get("expect_error"):
                failures.append(f"{name}: expected an error, both rendered")
                continue
            if got["output"] != expected:
                failures.append(f"{name}: outputs differ\n--- jinja2:\n{expected!r}\n--- ours:\n{got['output']!r}")
                continue
            raw = got["output"].encode("utf-8")
            strings = variable_strings(case["variables"], [])
            bad = []
            for begin, end in got["ranges"]:
                piece = raw[begin:end].decode("utf-8", errors="replace")
                if begin >= end or end > len(raw) or not any(piece in s for s in strings):
                    bad.append((begin, end, piece))
            for marker in case.get("not_from_variables", []):
                for begin, end in got["ranges"]:
                    if marker in raw[begin:end].decode("utf-8", errors="replace"):
                        bad.append((begin, end, marker))
            for marker in case.get("from_variables", []):
                if not any(raw[b:e].decode("utf-8", errors="replace") == marker for b, e in got["ranges"]):
                    bad.append((-1, -1, f"{marker!r} not marked"))
            if bad:
                failures.append(f"{name}: bad variable ranges {bad}")
                continue
            equal += 1
            if args.verbose:
                print(f"ok {name}")
    for f in failures:
        print("FAIL:", f)
    print(f"{total} cases: {equal} rendered byte-identical to jinja2, {errors_both} failed on both sides, "
          f"{len(failures)} differ")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
