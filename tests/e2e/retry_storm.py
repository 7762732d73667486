"""One retry storm against a running arena (see retry_storm.sh).

argv: BASE DATABASE_URL BATTLES_FILE SEED CONCURRENCY, BATTLES_FILE holding
"battle-id cookie-jar" lines (curl's jar format). Exits 1 naming the first
broken promise.
"""
import random
import subprocess
import sys
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

base, db_url, battles_file, seed, concurrency = sys.argv[1:]
rng = random.Random(int(seed))
CHOICES = ["a", "b", "tie", "bothbad"]
STORED = {"a": "model_a", "b": "model_b", "tie": "tie", "bothbad": "tie (bothbad)"}


def cookie_header(jar_path):
    pairs = []
    for line in open(jar_path):
        if line.startswith("#HttpOnly_"):
            line = line[len("#HttpOnly_"):]
        elif line.startswith("#") or not line.strip():
            continue
        fields = line.rstrip("\n").split("\t")
        if len(fields) == 7:
            pairs.append(f"{fields[5]}={fields[6]}")
    return "; ".join(pairs)


battles = [line.split() for line in open(battles_file) if line.strip()]
requests = []  # (battle, choice)
plan = {}
for battle, jar in battles:
    choice = rng.choice(CHOICES)
    other = rng.choice([c for c in CHOICES if c != choice]) if rng.random() < 1 / 3 else None
    plan[battle] = (choice, other, cookie_header(jar))
    requests += [(battle, choice)] * rng.randint(1, 5)
    if other:
        requests.append((battle, other))
rng.shuffle(requests)


def send(item):
    battle, choice = item
    req = urllib.request.Request(f"{base}/api/battles/{battle}/vote", data=f'{{"vote":"{choice}"}}'.encode(),
                                 method="POST", headers={"Content-Type": "application/json",
                                                         "Cookie": plan[battle][2]})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return battle, choice, r.status, r.read(), r.headers.get("Idempotent-Replayed")
    except urllib.error.HTTPError as e:
        return battle, choice, e.code, e.read(), e.headers.get("Idempotent-Replayed")


with ThreadPoolExecutor(max_workers=int(concurrency)) as pool:
    replies = list(pool.map(send, requests))

stored = dict(line.split("|", 1) for line in subprocess.run(
    ["psql", db_url, "-tAc", "SELECT battle_id || '|' || winner FROM votes"],
    check=True, capture_output=True, text=True).stdout.splitlines() if line)


def broken(what):
    print(f"retry storm (seed {seed}): {what}", file=sys.stderr)
    sys.exit(1)


for battle, choice, status, body, replayed in replies:
    if status >= 500 or status not in (200, 409):
        broken(f"battle {battle} vote {choice}: status {status} {body[:200]!r}")
for battle in plan:
    if battle not in stored:
        broken(f"battle {battle}: no vote stored")
    mine = [r for r in replies if r[0] == battle]
    winning = [r for r in mine if STORED[r[1]] == stored[battle]]
    losing = [r for r in mine if STORED[r[1]] != stored[battle]]
    if not winning:
        broken(f"battle {battle}: stored '{stored[battle]}', which no request asked for")
    if any(r[2] != 200 for r in winning):
        broken(f"battle {battle}: a request for the stored choice got {[r[2] for r in winning]}")
    if len({r[3] for r in winning}) != 1:
        broken(f"battle {battle}: retries got different bodies: {[r[3][:120] for r in winning]}")
    if b'"recorded":true' not in winning[0][3]:
        broken(f"battle {battle}: reply {winning[0][3][:200]!r}")
    first = [r for r in winning if r[4] is None]
    if len(first) != 1 or any(r[4] not in (None, "true") for r in winning):
        broken(f"battle {battle}: {len(first)} replies without Idempotent-Replayed, expected exactly 1")
    if any(r[2] != 409 for r in losing):
        broken(f"battle {battle}: a changed vote got {[r[2] for r in losing]}, expected 409")
changed = sum(1 for c in plan.values() if c[1])
print(f"seed {seed}: {len(requests)} requests on {len(plan)} battles ({changed} with a changed choice racing): "
      f"{sum(r[2] == 200 for r in replies)} × 200, {sum(r[2] == 409 for r in replies)} × 409, no 5xx")
