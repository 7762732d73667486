#!/usr/bin/env bash
# The demo a newcomer gets from `./dev run`: the models `./dev demo` writes
# (stories260K in F32 and a Q8_0 copy made by `huashan model quantize`) are
# served, a battle streams from both sides, and both answers are readable
# English: dictionary words (/usr/share/dict/words) make up most of their text.
# The same check on a random-weight model with the same tokenizer must fail,
# so it can tell stories from noise.
source "$(dirname "$0")/lib.sh"
HUASHAN="$1"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
WORDS=/usr/share/dict/words
[ -r "$WORDS" ] || fail "$WORDS is missing (./dev setup installs wamerican)"
tmp="$(mktemp -d)"
server_pid=""
cleanup() {
  [ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null || true
  cleanup_databases
  rm -rf "$tmp"
}
trap cleanup EXIT

# readable FILE MIN_SHARE: FILE holds text; succeeds when it has at least 20
# words and dictionary words of two letters or more make up at least MIN_SHARE
# of its non-space characters (single letters, digits, punctuation and stray
# bytes count against it). Prints the figures.
readable() {
  python3 - "$1" "$2" "$WORDS" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8", errors="replace").read()
dictionary = {w.strip().lower() for w in open(sys.argv[3], encoding="utf-8", errors="replace") if len(w.strip()) >= 2}
words = [w.lower() for w in re.findall(r"[A-Za-z]+", text)]
covered = sum(len(w) for w in words if w in dictionary)
chars = sum(not c.isspace() for c in text)
share = covered / chars if chars else 0.0
print(f"{len(words)} words; dictionary words cover {covered} of {chars} characters ({share:.0%}): {text[:100]!r}")
sys.exit(0 if len(words) >= 20 and share >= float(sys.argv[2]) else 1)
PY
}

HUASHAN_BIN="$HUASHAN" HUASHAN_VAR="$tmp/var" "$ROOT/dev" demo "$tmp/demo" >/dev/null
registry="$tmp/demo/models.yaml"
grep -q 'stories260k-q8_0' "$registry" || fail "demo registry: $(cat "$registry")"
"$HUASHAN" model info "$tmp/demo/stories260K-q8_0.gguf" | grep -qi 'q8_0' || fail "the demo copy is not Q8_0"

fresh_database
"$HUASHAN" --database-url "$FRESH_URL" db migrate >/dev/null
port="$(free_port)"
"$HUASHAN" --database-url "$FRESH_URL" serve --port "$port" --models "$registry" --min-vote-delay-ms 0 \
  >"$tmp/serve.log" 2>&1 &
server_pid=$!
base="http://127.0.0.1:$port"
for _ in $(seq 1 200); do
  curl -sf "$base/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -sf "$base/readyz" >/dev/null || fail "serve not ready: $(tail -5 "$tmp/serve.log")"

id="$(answered_battle "$base" "$tmp/jar" "Once upon a time, there was a little girl" "$tmp/stream")"
for side in a b; do
  python3 - "$tmp/stream" "$side" >"$tmp/answer_$side" <<'PY'
import json, sys
text, event = [], None
for line in open(sys.argv[1], encoding="utf-8"):
    line = line.rstrip("\n")
    if line.startswith("event: "):
        event = line[7:]
    elif line.startswith("data: ") and event == "text":
        data = json.loads(line[6:])
        if data["side"] == sys.argv[2]:
            text.append(data["text"])
sys.stdout.write("".join(text))
PY
  echo -n "side $side: "
  readable "$tmp/answer_$side" 0.8 || fail "battle $id side $side is not readable text"
done
grep -q '"side":"a"' "$tmp/stream" && grep -q '"side":"b"' "$tmp/stream" || fail "both sides must stream"

# The check tells noise apart: a random-weight llama with stories260K's tokenizer.
"$HUASHAN" model synth --arch llama --layers 2 --dim 64 --heads 4 --kv-heads 4 --ffn 128 --type f16 --seed 3 \
  --tokenizer-from "$ROOT/tests/data/models/stories260K.gguf" -o "$tmp/noise.gguf" >/dev/null
"$HUASHAN" generate --model "$tmp/noise.gguf" --prompt "Once upon a time, there was a little girl" -n 96 \
  --temp 0.7 --seed 1 --ignore-eos 2>/dev/null >"$tmp/noise.txt"
echo -n "random weights: "
if readable "$tmp/noise.txt" 0.8; then fail "the readability check passed a random-weight model's output"; fi

stop_gracefully "$server_pid"
server_pid=""
echo "e2e demo_battle: ok"
