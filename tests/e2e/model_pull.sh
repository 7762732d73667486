#!/usr/bin/env bash
# `huashan model pull` against a local HTTP server this script starts (no
# internet): an interrupted download resumes with a Range request and ends
# with the right sha256; a wrong --sha256 is an error that deletes the
# download; hf:OWNER/REPO/FILE maps to $HF_ENDPOINT/OWNER/REPO/resolve/main/FILE;
# a 404 is a one-line error.
set -euo pipefail
HUASHAN="$1"
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v python3 >/dev/null || fail "python3 is needed for the local HTTP server"

work="$(mktemp -d)"
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# The file to serve: a small synthetic model written by huashan itself.
mkdir -p "$work/srv/owner/repo/resolve/main"
"$HUASHAN" model synth --arch llama --layers 2 --dim 64 --heads 4 --kv-heads 2 --ffn 128 --vocab 512 \
  --type q8_0 --seed 7 -o "$work/srv/tiny.gguf" >/dev/null
cp "$work/srv/tiny.gguf" "$work/srv/owner/repo/resolve/main/tiny.gguf"
sha="$(sha256sum "$work/srv/tiny.gguf" | cut -d' ' -f1)"
size="$(stat -c %s "$work/srv/tiny.gguf")"

# A server with Range support (python's http.server has none). /cut/NAME
# announces the full length but closes the connection halfway. Every request's
# Range header is logged.
cat > "$work/server.py" <<'PY'
import http.server, os, re, sys
root, log = sys.argv[1], sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        path, cut = self.path, False
        if path.startswith("/cut/"):
            path, cut = path[4:], True
        full = os.path.join(root, path.lstrip("/"))
        rng = self.headers.get("Range", "")
        with open(log, "a") as f: f.write(f"{self.path} range={rng}\n")
        if not os.path.isfile(full):
            self.send_error(404); return
        data = open(full, "rb").read()
        start = 0
        m = re.match(r"bytes=(\d+)-$", rng)
        if m:
            start = int(m.group(1))
            if start >= len(data):
                self.send_response(416); self.send_header("Content-Range", f"bytes */{len(data)}")
                self.end_headers(); return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data)-1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2] if cut else body)
        self.wfile.flush()
        if cut: self.close_connection = True
s = http.server.HTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
PY
python3 "$work/server.py" "$work/srv" "$work/requests.log" >"$work/port" &
server_pid=$!
for _ in $(seq 50); do [ -s "$work/port" ] && break; sleep 0.1; done
port="$(cat "$work/port")"
[ -n "$port" ] || fail "the local HTTP server did not start"
base="http://127.0.0.1:$port"
models="$work/models"

# 1. An interrupted download fails, keeps the .part file, and says how to resume.
set +e
err="$("$HUASHAN" model pull "$base/cut/tiny.gguf" --models-dir "$models" 2>&1 >/dev/null)"
rc=$?
set -e
[ $rc -ne 0 ] || fail "a cut connection should fail the pull"
echo "$err" | grep -q "run again to resume" || fail "no resume hint in: $err"
[ -f "$models/tiny.gguf.part" ] || fail "the partial download was not kept"
part_size="$(stat -c %s "$models/tiny.gguf.part")"
[ "$part_size" -gt 0 ] && [ "$part_size" -lt "$size" ] || fail "partial size $part_size of $size"

# 2. Pulling again resumes from the partial file with a Range request; sha256 checked.
out="$("$HUASHAN" model pull "$base/tiny.gguf" --models-dir "$models" --sha256 "$sha" 2>"$work/stderr")"
grep -q "range=bytes=$part_size-" "$work/requests.log" || fail "no Range request from $part_size: $(cat "$work/requests.log")"
grep -q "resuming" "$work/stderr" || fail "resume not reported: $(cat "$work/stderr")"
echo "$out" | grep -q "(verified)" || fail "sha256 not reported as verified: $out"
cmp -s "$models/tiny.gguf" "$work/srv/tiny.gguf" || fail "resumed file differs from the served one"
[ ! -e "$models/tiny.gguf.part" ] || fail ".part left behind"
"$HUASHAN" model info "$models/tiny.gguf" | grep -q "architecture:    llama" || fail "downloaded model unreadable"

# 3. Already present: verified again without downloading.
"$HUASHAN" model pull "$base/tiny.gguf" --models-dir "$models" --sha256 "$sha" | grep -q "already present" \
  || fail "second pull did not notice the file"

# 4. A wrong sha256: exit 1, one-line error naming both digests, download deleted.
wrong="0000000000000000000000000000000000000000000000000000000000000000"
set +e
err="$("$HUASHAN" model pull "$base/tiny.gguf" --models-dir "$work/other" --sha256 "$wrong" 2>&1 >/dev/null)"
rc=$?
set -e
[ $rc -eq 1 ] || fail "sha256 mismatch exit code $rc, expected 1"
echo "$err" | grep -q "sha256 mismatch: expected $wrong, got $sha" || fail "unexpected mismatch error: $err"
[ ! -e "$work/other/tiny.gguf" ] && [ ! -e "$work/other/tiny.gguf.part" ] || fail "mismatching download kept"

# 5. hf: maps to the resolve URL under $HF_ENDPOINT.
HF_ENDPOINT="$base" "$HUASHAN" model pull hf:owner/repo/tiny.gguf --models-dir "$work/hf" >/dev/null 2>&1 \
  || fail "hf: pull failed: $(tail -3 "$work/requests.log")"
grep -q "^/owner/repo/resolve/main/tiny.gguf " "$work/requests.log" || fail "hf: URL not mapped: $(cat "$work/requests.log")"
cmp -s "$work/hf/tiny.gguf" "$work/srv/tiny.gguf" || fail "hf: download differs"

# 6. A 404: exit 1 and a one-line error naming the URL.
set +e
err="$("$HUASHAN" model pull "$base/missing.gguf" --models-dir "$models" 2>&1 >/dev/null | grep "huashan: error")"
set -e
echo "$err" | grep -q "missing.gguf" || fail "404 error does not name the URL: $err"
echo "e2e model pull: ok"
