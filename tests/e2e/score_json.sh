#!/usr/bin/env bash
# `huashan score --json` on a Chinese prompt under a Llama-2-style vocabulary
# (stories260K: SentencePiece with byte fallback, no CJK pieces) must print
# valid UTF-8 JSON: each byte-fallback token is spelled "bytes:\xNN" as OpenAI
# does, with its bytes, and the bytes of the continuation add up to its text.
set -euo pipefail
HUASHAN="$1"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
"$HUASHAN" score --model "$ROOT/tests/data/models/stories260K.gguf" --prompt "你好，世界。" \
  --continuation "中文很好" --top 3 --json >"$out"
python3 - "$out" <<'PY'
import json, sys
raw = open(sys.argv[1], "rb").read()
text = raw.decode("utf-8")  # strict: raises on a raw byte-fallback byte
doc = json.loads(text)
tokens = doc["continuation"]
assert tokens, "no continuation tokens"
byte_tokens = [t for t in tokens if t["piece"].startswith("bytes:")]
assert byte_tokens, f"expected byte-fallback tokens for Chinese text: {tokens}"
for t in tokens:
    b = bytes(t["bytes"])
    if t["piece"].startswith("bytes:"):
        assert t["piece"] == "bytes:" + "".join(f"\\x{c:02x}" for c in b), t
    else:
        assert t["piece"].encode("utf-8") == b, t
    for alt in t["top"]:
        alt["piece"].encode("utf-8")
joined = b"".join(bytes(t["bytes"]) for t in tokens).decode("utf-8")
assert joined.strip() == "中文很好", joined
print(f"{len(tokens)} tokens, {len(byte_tokens)} byte-fallback, all valid UTF-8 JSON")
PY
