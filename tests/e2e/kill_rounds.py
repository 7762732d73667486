"""Kill rounds against a real arena and a real (throwaway) PostgreSQL; see kill_rounds.sh.

SESSIONS visitors start battles, follow them to the end and vote, over and
over, each in its own session. Meanwhile ROUNDS times each, at a random
moment, `huashan serve` gets SIGKILL (and is started again on the same port),
the PostgreSQL postmaster does (and the cluster is started again), or serve's
leaderboard process does (serve starts it again). A vote
that gets no answer (connection lost, 503) is sent again until one comes.
Afterwards every acknowledged vote must be stored once with its choice, no
vote may be stored that was never sent, and the leaderboard must come back
with every stored vote. Prints the figures as one JSON line; exits 1 naming
the first broken promise.

Environment: HUASHAN, MODELS (a --models-dir), WORK, URL (the database),
PG_VAR (the throwaway cluster's HUASHAN_VAR), ROOT (the repository),
ROUNDS, SESSIONS, SEED.
"""
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time

HUASHAN, MODELS, WORK, URL = (os.environ[k] for k in ("HUASHAN", "MODELS", "WORK", "URL"))
PG_VAR, ROOT = os.environ["PG_VAR"], os.environ["ROOT"]
ROUNDS, SESSIONS = int(os.environ.get("ROUNDS", "3")), int(os.environ.get("SESSIONS", "6"))
rng = random.Random(int(os.environ.get("SEED", "1")))
SECRET = "5" * 64  # fixed: sessions outlive a server restart
STORED = {"a": "model_a", "b": "model_b", "tie": "tie", "bothbad": "tie (bothbad)"}

problems = []
lock = threading.Lock()
acknowledged = {}  # battle -> stored winner, from a 200
sent = {}          # battle -> choice, for every vote sent at least once
statuses = {}      # vote replies by status ("lost" for no reply)
stop = threading.Event()


def problem(text):
    with lock:
        problems.append(text)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


PORT = free_port()
server = None


def start_server():
    global server
    log = open(os.path.join(WORK, "server.log"), "ab")
    server = subprocess.Popen(
        [HUASHAN, "--log-level", "warn", "--database-url", URL, "serve", "--port", str(PORT), "--models-dir", MODELS,
         "--engine-threads", "1", "--session-secret", SECRET, "--min-vote-delay-ms", "0",
         "--votes-per-session-minute", "60000", "--votes-per-address-minute", "600000",
         "--battles-per-session-minute", "60000", "--battles-per-address-minute", "600000",
         "--leaderboard-interval", "1"], stdout=log, stderr=log)
    deadline = time.time() + 120
    while time.time() < deadline:
        if server.poll() is not None:
            sys.exit(f"FAIL: serve exited {server.returncode}; see {WORK}/server.log")
        try:
            if request("GET", "/livez", timeout=2)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    sys.exit("FAIL: serve did not answer /livez")


def request(method, path, body=None, cookie=None, timeout=30):
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=timeout)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if cookie:
            headers["Cookie"] = cookie
        conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        reply = conn.getresponse()
        return reply.status, reply.read().decode("utf-8", "replace"), reply.getheader("Set-Cookie")
    finally:
        conn.close()


def visitor(number):
    cookie = None
    local = random.Random(number)
    battle_count = 0
    while not stop.is_set():
        battle_count += 1
        try:
            status, body, set_cookie = request("POST", "/api/battles", {"prompt": f"Visitor {number}, battle {battle_count}."},
                                               cookie)
            if set_cookie:
                cookie = set_cookie.split(";", 1)[0]
            if status != 201:
                time.sleep(0.1)
                continue
            battle = json.loads(body)["battle_id"]
            status, stream, _ = request("GET", f"/api/battles/{battle}/stream", cookie=cookie, timeout=120)
            if status != 200 or "event: turn_done" not in stream:
                continue  # cut off by a kill: this battle is abandoned, never voted on
        except (OSError, http.client.HTTPException, ValueError):
            time.sleep(0.1)
            continue
        choice = local.choice(list(STORED))
        with lock:
            sent[battle] = choice
        # Sent again until it is answered: an unanswered vote may or may not be stored.
        give_up = None
        while True:
            try:
                status, body, _ = request("POST", f"/api/battles/{battle}/vote", {"vote": choice}, cookie)
            except (OSError, http.client.HTTPException):
                status, body = "lost", ""
            with lock:
                statuses[status] = statuses.get(status, 0) + 1
            if status == 200:
                winner = json.loads(body).get("winner")
                if winner != STORED[choice]:
                    problem(f"battle {battle}: voted {choice}, acknowledged as {winner}")
                with lock:
                    acknowledged[battle] = winner
                break
            if status not in ("lost", 503):
                problem(f"battle {battle}: vote answered {status}: {body[:200]}")
                break
            if stop.is_set():
                give_up = give_up or time.time() + 60
                if time.time() > give_up:
                    break
            time.sleep(0.2)


def recompute_children():
    listed = subprocess.run(["pgrep", "-P", str(server.pid), "-f", "leaderboards"], capture_output=True, text=True)
    return [int(p) for p in listed.stdout.split()]


def postmaster_pid():
    with open(os.path.join(PG_VAR, "pg", "postmaster.pid")) as f:
        return int(f.readline())


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def restart_postgres(killed):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["HUASHAN_VAR"] = PG_VAR
    deadline = time.time() + 120
    while alive(killed) and time.time() < deadline:  # else `dev db start` finds it "running"
        time.sleep(0.05)
    while True:
        # Orphaned backends leave when they notice the postmaster is gone; until
        # then the cluster refuses to start.
        done = subprocess.run([os.path.join(ROOT, "dev"), "db", "start"], env=env, capture_output=True, text=True)
        if done.returncode == 0 and subprocess.run(["psql", URL, "-tAc", "SELECT 1"], capture_output=True).returncode == 0:
            return
        if time.time() > deadline:
            sys.exit(f"FAIL: PostgreSQL did not start again: {done.stderr[-500:]}")
        time.sleep(0.5)


start_server()
threads = [threading.Thread(target=visitor, args=(n,)) for n in range(SESSIONS)]
for t in threads:
    t.start()
kills = {"server": 0, "postmaster": 0, "recompute": 0}
try:
    for round_number in range(ROUNDS):
        for kind in ("server", "postmaster", "recompute"):
            time.sleep(rng.uniform(1.0, 3.0))
            if kind == "server":
                server.send_signal(signal.SIGKILL)
                server.wait()
                start_server()
            elif kind == "recompute":
                # serve's leaderboard child; serve starts it again by itself.
                children = recompute_children()
                if not children:
                    problem(f"round {round_number + 1}: serve has no leaderboard process")
                for pid in children:
                    os.kill(pid, signal.SIGKILL)
            else:
                pid = postmaster_pid()
                os.kill(pid, signal.SIGKILL)
                time.sleep(rng.uniform(0.2, 1.5))  # the arena runs without its database a moment
                restart_postgres(pid)
            kills[kind] += 1
    time.sleep(2.0)  # calm load after the last round
finally:
    stop.set()
    for t in threads:
        t.join()

# What PostgreSQL holds now.
rows = subprocess.run(["psql", URL, "-tAF", "\t", "-c", "SELECT battle_id, winner FROM votes"], capture_output=True,
                      text=True, check=True).stdout.splitlines()
stored = dict(line.split("\t") for line in rows if line)
lost = [b for b, w in acknowledged.items() if stored.get(b) != w]
phantom = [b for b in stored if b not in sent]
wrong = [b for b in stored if b in sent and stored[b] != STORED[sent[b]]]
for b in lost[:5]:
    problem(f"acknowledged vote on {b} ({acknowledged[b]}) is stored as {stored.get(b)!r}")
for b in phantom[:5]:
    problem(f"a vote on {b} is stored that was never sent")
for b in wrong[:5]:
    problem(f"the vote on {b} is stored as {stored[b]}, sent as {sent[b]}")
if len(acknowledged) < ROUNDS:
    problem(f"only {len(acknowledged)} votes were acknowledged in {ROUNDS} rounds: the load did not run")

# The leaderboard comes back with every stored vote.
board_votes = None
deadline = time.time() + 90
while time.time() < deadline:
    try:
        status, body, _ = request("GET", "/api/leaderboard", timeout=5)
        if status == 200:
            board_votes = json.loads(body)["vote_count"]
            if board_votes == len(stored):
                break
    except (OSError, http.client.HTTPException, ValueError):
        pass
    time.sleep(0.25)
if board_votes != len(stored):
    problem(f"the leaderboard counts {board_votes} votes, {len(stored)} are stored")
children = recompute_children()
server.send_signal(signal.SIGTERM)
if server.wait(timeout=60) != 0:
    problem(f"serve exited {server.returncode} after SIGTERM")
for pid in children:
    if alive(pid):
        problem(f"the leaderboard process {pid} outlived serve")

print(json.dumps({"test": "kill_rounds", "server_kills": kills["server"], "postmaster_kills": kills["postmaster"],
                  "recompute_process_kills": kills["recompute"],
                  "votes_sent": len(sent), "votes_acknowledged": len(acknowledged), "votes_stored": len(stored),
                  "stored_without_acknowledgement": len([b for b in stored if b not in acknowledged]),
                  "votes_lost": len(lost), "duplicates": 0 if len(rows) == len(stored) else len(rows) - len(stored),
                  "replies": {str(k): v for k, v in sorted(statuses.items(), key=lambda kv: str(kv[0]))}}))
if problems:
    for p in problems[:20]:
        print("FAIL:", p, file=sys.stderr)
    sys.exit(1)
