#!/usr/bin/env python3
"""Schema-driven walk of the HTTP API: requests generated from docs/api.yaml.

usage: api_walk.py BASE SPEC COUNT SEED KEY

For every operation of the spec (path and method) it builds requests from the
operation's own parameters and request body schema: a valid request, then ones
with a required field missing, a field of the wrong type, an unknown extra
field, huge values, Unicode edge cases (NUL, a lone surrogate, right-to-left
marks, emoji, invalid UTF-8 bytes), bodies that are not JSON objects, and bad
path ids. KEY is an API key for the routes that need one: a request carries
it, a wrong one or none. COUNT requests are sent, the operations in turn and
the kind of each request drawn from SEED.

Every response must hold:
  - no 5xx;
  - its status is one the operation documents;
  - with a JSON body documented for that status, the Content-Type is the
    documented one and the body validates against the documented schema
    (JSON Schema 2020-12, $refs into the spec).
Prints a JSON line of figures; exits 1 listing the first failures.
"""
import copy
import http.client
import json
import random
import sys
import time
import urllib.parse
import warnings
from collections import Counter

import jsonschema
import yaml

# RefResolver is deprecated in newer jsonschema releases; Debian 12's 4.10 has
# nothing else.
warnings.filterwarnings("ignore", category=DeprecationWarning)

HUGE_STRING = "x" * 200_000
UNICODE_EDGES = [
    "\u0000", "\ud800", "\u202e\u202dRTL", "\U0001F600\u200d\U0001F4BB", "e\u0301\u0301\u0301", "\ufeffbom",
    "中文提示：模型", "\uffff", "a" * 70_000,
]
HUGE_NUMBERS = [10**9, 2**31, 2**63, 2**64 + 1, -(2**63) - 1, 1e308, -1, -0.0, 1e-320]
WRONG_TYPES = [None, True, 0, 1.5, "text", [], {}, [1, "a", None], {"nested": {"deeper": [{}]}}]
BAD_PATH_VALUES = ["0", "-1", "9223372036854775808", "abc", "%00", "..%2F..%2Fetc%2Fpasswd", "%E4%B8%AD%E6%96%87",
                   "00000000-0000-0000-0000-000000000000", "x" * 5000, "%ZZ", "a%20b", "%C0%AF"]
RAW_BODIES = [b"", b"null", b"[]", b"[1,2,3]", b"\"text\"", b"{", b"{\"a\":}", b"\xff\xfe{}", b"{\"prompt\":\"\xc3\x28\"}",
              b"[" * 5000 + b"]" * 5000, b"{\"a\":" * 3000 + b"1" + b"}" * 3000, b"\x00\x01\x02"]


class Spec:
    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            self.doc = yaml.safe_load(f)
        self.resolver = jsonschema.RefResolver.from_schema(self.doc)

    def resolve(self, node):
        while isinstance(node, dict) and "$ref" in node:
            _, node = self.resolver.resolve(node["$ref"])
        return node

    def operations(self):
        ops = []
        for path, item in self.doc["paths"].items():
            for method, op in item.items():
                if method not in ("get", "post", "put", "patch", "delete"):
                    continue
                params = [self.resolve(p) for p in op.get("parameters", []) + item.get("parameters", [])]
                body = None
                if "requestBody" in op:
                    content = self.resolve(op["requestBody"]).get("content", {})
                    if "application/json" in content:
                        body = content["application/json"].get("schema", {})
                responses = {code: self.resolve(r) for code, r in op.get("responses", {}).items()}
                ops.append({"path": path, "method": method.upper(), "params": params, "body": body,
                            "responses": responses, "secured": bool(op.get("security")), "id": op.get("operationId")})
        return ops


class Generator:
    """Builds instances of schemas: valid ones, and the mutations above."""

    def __init__(self, spec, rng, known):
        self.spec = spec
        self.rng = rng
        self.known = known  # field name -> realistic values (model names, ids)

    def valid(self, schema, name=None, depth=0):
        schema = self.spec.resolve(schema)
        if name in self.known and self.known[name]:
            return self.rng.choice(self.known[name])
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            return self.rng.choice([v for v in schema["enum"] if v is not None] or [None])
        if "default" in schema and self.rng.random() < 0.5:
            return schema["default"]
        for key in ("oneOf", "anyOf"):
            if key in schema:
                return self.valid(self.rng.choice(schema[key]), name, depth + 1)
        kind = schema.get("type", "object" if "properties" in schema else "string")
        if isinstance(kind, list):
            kind = self.rng.choice([k for k in kind if k != "null"] or ["null"])
        if kind == "object":
            out = {}
            for prop, sub in schema.get("properties", {}).items():
                if prop in schema.get("required", []) or (depth < 3 and self.rng.random() < 0.4):
                    out[prop] = self.valid(sub, prop, depth + 1)
            return out
        if kind == "array":
            n = max(schema.get("minItems", 1), 1)
            return [self.valid(schema.get("items", {}), name, depth + 1) for _ in range(n)]
        if kind == "integer":
            lo = schema.get("minimum", 0)
            hi = schema.get("maximum", lo + 8)
            return self.rng.randint(lo, max(lo, min(hi, lo + 8)))
        if kind == "number":
            lo = schema.get("minimum", 0)
            hi = schema.get("maximum", 1)
            return round(self.rng.uniform(lo, hi), 3)
        if kind == "boolean":
            return self.rng.random() < 0.5
        if kind == "null":
            return None
        return self.rng.choice(["Hello", "Say something short.", "你好", "a"])

    def mutate(self, schema, value):
        """One mutation of a valid object `value` of `schema`; returns (label, new value)."""
        schema = self.spec.resolve(schema)
        if not isinstance(value, dict):
            return "wrong body type", self.rng.choice(WRONG_TYPES + UNICODE_EDGES[:3])
        props = list(schema.get("properties", {}).keys())
        required = [p for p in schema.get("required", []) if isinstance(value, dict) and p in value]
        choice = self.rng.randrange(6)
        v = copy.deepcopy(value)
        if choice == 0 and required:
            field = self.rng.choice(required)
            del v[field]
            return f"missing {field}", v
        if choice == 1 and props:
            field = self.rng.choice(props)
            v[field] = self.rng.choice(WRONG_TYPES)
            return f"wrong type {field}", v
        if choice == 2:
            v[self.rng.choice(["extra", "__proto__", "constructor", "x" * 300])] = self.rng.choice(WRONG_TYPES + ["x"])
            return "extra field", v
        if choice == 3 and props:
            field = self.rng.choice(props)
            v[field] = self.rng.choice(HUGE_NUMBERS + [HUGE_STRING, [HUGE_STRING] * 3, ["x"] * 5000])
            return f"huge {field}", v
        if choice == 4 and props:
            field = self.rng.choice(props)
            v[field] = self.rng.choice(UNICODE_EDGES)
            return f"unicode {field}", v
        if props:
            # A nested field: mutate inside an array or object value.
            field = self.rng.choice(props)
            inner = v.get(field)
            if isinstance(inner, list) and inner and isinstance(inner[0], dict):
                key = self.rng.choice(list(inner[0].keys()) or ["k"])
                inner[0][key] = self.rng.choice(WRONG_TYPES + UNICODE_EDGES[:4])
                return f"nested {field}[0].{key}", v
            v[field] = self.rng.choice(UNICODE_EDGES + WRONG_TYPES)
            return f"odd {field}", v
        return "unchanged", v


def pct(text):
    """Percent-encodes `text`; a lone surrogate becomes its (invalid UTF-8) bytes."""
    return urllib.parse.quote(text.encode("utf-8", "surrogatepass"), safe="")


def encode_json(value):
    # ensure_ascii keeps lone surrogates as \ud800 escapes (valid JSON text,
    # not valid Unicode): the server must refuse or accept it, never fail.
    return json.dumps(value, ensure_ascii=True).encode("ascii")


class Walker:
    def __init__(self, base, spec, seed, key):
        self.base = urllib.parse.urlsplit(base)
        self.spec = spec
        self.rng = random.Random(seed)
        self.key = key
        self.cookie = None
        self.failures = []
        self.statuses = Counter()
        self.kinds = Counter()
        self.sent = 0
        self.validated = 0

    def request(self, method, target, body=None, headers=None, read_limit=1 << 26):
        conn = http.client.HTTPConnection(self.base.hostname, self.base.port, timeout=60)
        h = {"Host": f"{self.base.hostname}:{self.base.port}", "Connection": "close"}
        if body is not None:
            h["Content-Type"] = "application/json"
        if self.cookie:
            h["Cookie"] = self.cookie
        h.update(headers or {})
        conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        for k, v in h.items():
            conn.putheader(k, v)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        resp = conn.getresponse()
        data = resp.read(read_limit)
        conn.close()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data

    def setup(self):
        """A session with one answered battle: real ids for the path parameters."""
        status, headers, body = self.request("POST", "/api/battles", encode_json({"prompt": "API walk setup"}))
        if status != 201:
            raise SystemExit(f"setup: starting a battle answered {status}: {body[:300]!r}")
        self.cookie = headers.get("set-cookie", "").split(";")[0]
        battle = json.loads(body)["battle_id"]
        self.request("GET", f"/api/battles/{battle}/stream", read_limit=1 << 22)
        _, _, models = self.request("GET", "/v1/models")
        names = [m["id"] for m in json.loads(models)["data"]]
        return {"model": names, "name": names, "battle": [battle], "id": [battle], "prompt": ["Tell me a story."],
                "content": ["Hello there"], "vote": ["a", "b", "tie", "bothbad"]}

    def path_value(self, param, known):
        schema = self.spec.resolve(param.get("schema", {}))
        r = self.rng.random()
        if r < 0.45:
            if schema.get("type") == "integer":
                return str(self.rng.randint(1, 3))
            if schema.get("format") == "uuid":
                return known["battle"][0]
            return pct(self.rng.choice(known["model"] + ["style.css", "app.js"]))
        return self.rng.choice(BAD_PATH_VALUES)

    def query_string(self, params, gen):
        parts = []
        for p in params:
            if p.get("in") != "query" or self.rng.random() < 0.4:
                continue
            if self.rng.random() < 0.6:
                value = gen.valid(p.get("schema", {}), p["name"])
                value = json.dumps(value) if isinstance(value, bool) else str(value)
            else:
                value = self.rng.choice(UNICODE_EDGES[2:8] + ["", "x" * 3000, "-1", "true", "%"])
            parts.append(pct(p["name"]) + "=" + pct(value))
        if self.rng.random() < 0.1:
            parts.append("unknown=" + pct(self.rng.choice(UNICODE_EDGES[:4])))
        return ("?" + "&".join(parts)) if parts else ""

    def one(self, op, known):
        gen = Generator(self.spec, self.rng, known)
        target = op["path"]
        for p in op["params"]:
            if p.get("in") == "path":
                target = target.replace("{" + p["name"] + "}", self.path_value(p, known))
        target += self.query_string(op["params"], gen)
        headers = {}
        if op["secured"]:
            r = self.rng.random()
            if r < 0.7:
                headers["Authorization"] = f"Bearer {self.key}"
            elif r < 0.85:
                headers["Authorization"] = self.rng.choice(["Bearer wrong", "Basic Zm9vOmJhcg==", "Bearer " + "k" * 5000, "Bearer"])
        if op["path"].startswith("/api/admin"):
            if self.rng.random() < 0.7:
                headers["Authorization"] = f"Bearer {self.key}"
        body = None
        kind = "no body"
        if op["body"] is not None:
            value = gen.valid(op["body"])
            r = self.rng.random()
            if r < 0.25:
                kind, body = "valid", encode_json(value)
            elif r < 0.85:
                kind, value = gen.mutate(op["body"], value)
                body = encode_json(value)
            else:
                body = self.rng.choice(RAW_BODIES)
                kind = "raw body"
        elif op["method"] == "POST":
            body = b"{}"
        self.kinds[kind.split(" ")[0]] += 1
        started = time.monotonic()
        try:
            status, headers_back, data = self.request(op["method"], target, body, headers)
        except (OSError, http.client.HTTPException) as e:
            self.fail(op, target, kind, body, f"no response: {e!r}")
            return
        elapsed = time.monotonic() - started
        self.sent += 1
        self.statuses[status] += 1
        self.check(op, target, kind, body, status, headers_back, data, elapsed)

    def fail(self, op, target, kind, body, why):
        shown = (body or b"")[:200]
        self.failures.append(f"{op['method']} {target[:200]} [{kind}] body={shown!r}: {why}")

    def check(self, op, target, kind, body, status, headers, data, elapsed):
        if status >= 500:
            self.fail(op, target, kind, body, f"{status} {data[:300]!r}")
            return
        documented = op["responses"].get(str(status)) or op["responses"].get("default")
        if documented is None:
            self.fail(op, target, kind, body, f"status {status} is not documented ({sorted(op['responses'])}): {data[:200]!r}")
            return
        content = documented.get("content")
        if not content:
            return
        ctype = headers.get("content-type", "").split(";")[0].strip()
        if ctype not in content:
            self.fail(op, target, kind, body, f"{status} with Content-Type {ctype!r}, documented {sorted(content)}")
            return
        schema = content[ctype].get("schema")
        if schema is None or "json" not in ctype:
            return
        try:
            document = json.loads(data)
        except ValueError as e:
            self.fail(op, target, kind, body, f"{status} {ctype} body is not JSON ({e}): {data[:200]!r}")
            return
        validator = jsonschema.Draft202012Validator(schema, resolver=self.spec.resolver)
        error = jsonschema.exceptions.best_match(validator.iter_errors(document))
        if error is not None:
            self.fail(op, target, kind, body, f"{status} body does not match its schema at "
                      f"{'/'.join(map(str, error.absolute_path))}: {error.message[:300]}")
            return
        self.validated += 1


def main():
    base, spec_path, count, seed, key = sys.argv[1:6]
    spec = Spec(spec_path)
    walker = Walker(base, spec, int(seed), key)
    known = walker.setup()
    ops = spec.operations()
    started = time.monotonic()
    for i in range(int(count)):
        walker.one(ops[i % len(ops)], known)
    print(json.dumps({"requests": walker.sent, "operations": len(ops), "seconds": round(time.monotonic() - started, 1),
                      "statuses": {str(k): v for k, v in sorted(walker.statuses.items())},
                      "5xx": sum(v for k, v in walker.statuses.items() if k >= 500),
                      "bodies_validated": walker.validated, "kinds": dict(walker.kinds),
                      "failures": len(walker.failures)}))
    for f in walker.failures[:25]:
        print("FAIL:", f, file=sys.stderr)
    return 1 if walker.failures else 0


if __name__ == "__main__":
    sys.exit(main())
