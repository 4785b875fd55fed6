"""Benchmark: HTTP vote intake under load vs CLI ingestion of the same votes, same run.

Run: ``.venv/bin/python benchmarks/bench_api.py [--votes 50000] [--concurrency 64] [--record]``

1. Makes ``--votes`` POST /v1/votes requests: distinct signed votes plus 2 % exact resends
   (idempotency under load), from a Paris-like election (fixtures/paris.py).
2. Baseline, same run: the distinct votes as one JSON Lines file ingested by
   ``engine.services.ingest.ingest_evote_file`` (what ``pbcount ingest evotes`` does) into its own store.
3. Starts ``pbcount serve`` (uvicorn, second process) on 127.0.0.1 with a fresh store and
   an operator key, rate limit lifted; this process posts the votes with ``--concurrency``
   requests in flight (HTTP/1.1 keep-alive connections), recording each latency.
4. Checks the store against what was sent: every acknowledged receipt stored, nothing
   stored that was not acknowledged, each distinct vote stored exactly once, and the count
   counts one ballot per voter. Any loss or double count exits with status 1.

Prints sustained votes/s (requests acknowledged / wall time), p50/p99 latency and the
ratio to the CLI ingestion rate. ``--record`` appends the figures to benchmarks/RESULTS.md.
Only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import hashlib
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from engine.formats.election_definition import load_election  # noqa: E402
from engine.model.election import Election  # noqa: E402
from engine.model.tokens import issue_token  # noqa: E402
from engine.services.count import count_store  # noqa: E402
from engine.services.ingest import ingest_evote_file  # noqa: E402
from engine.storage.apikey_store import ApiKeyStore  # noqa: E402
from engine.storage.keyfiles import load_private_key, load_public_key, load_receipt_secret  # noqa: E402
from engine.storage.store import Store  # noqa: E402
from fixtures.paris import generate_paris  # noqa: E402


def make_votes(election: Election, keys: Path, n_distinct: int, seed: int) -> list[dict[str, object]]:
    rng = random.Random(seed)
    key = load_private_key(keys)
    paris = sorted(election.projects_in("paris"), key=lambda p: p.id)
    districts = [e for e in election.envelopes if e.kind == "district"]
    votes: list[dict[str, object]] = []
    for i in range(n_distinct):
        serial = hashlib.sha256(f"bench-api-{seed}-{i}".encode()).digest()[:10]
        cats: set[str | None] = set()
        chosen: list[str] = []
        for p in rng.sample(paris, 8):  # at most one per category: within every limit
            if p.category not in cats and len(chosen) < 2:
                cats.add(p.category)
                chosen.append(p.id)
        env = rng.choice(districts)
        ps = sorted(election.projects_in(env.id), key=lambda p: p.cost)
        votes.append({
            "token": issue_token(key, election.id, serial),
            "cast_at": (dt.datetime(2026, 9, 7, 8, tzinfo=dt.UTC) + dt.timedelta(seconds=i)).isoformat(),
            "selections": {"paris": chosen, env.id: [ps[0].id]},
        })
    return votes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stop_server(server: subprocess.Popen[bytes]) -> None:
    """Stop ``pbcount serve`` (SIGTERM, then SIGKILL after 30 s)."""
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()


def start_server(db_url: str, keys: Path, port: int, workers: int) -> subprocess.Popen[bytes]:
    cmd = [str(ROOT / ".venv" / "bin" / "pbcount"), "serve", "--db", db_url, "--keys", str(keys),
           "--host", "127.0.0.1", "--port", str(port), "--vote-rate", "1000000", "--vote-burst", "1000000",
           "--log-level", "warning", "--workers", str(workers)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {proc.stderr.read().decode() if proc.stderr else ''}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("server did not start within 60 s")


async def http_request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str, body: bytes,
                       headers: str) -> tuple[int, bytes]:
    """One HTTP/1.1 keep-alive POST on an open connection; returns (status, body)."""
    writer.write(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n{headers}\r\n"
                 .encode() + body)
    status_line = await reader.readline()
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    return int(status_line.split()[1]), await reader.readexactly(length)


async def post_all(port: int, key: str, bodies: list[bytes], concurrency: int) -> tuple[list[float], list[dict], float]:
    """``concurrency`` keep-alive connections posting ``bodies`` (a minimal asyncio HTTP/1.1
    client: httpx's async pool measured ~70 requests/s here, it would measure the client)."""
    latencies: list[float] = [0.0] * len(bodies)
    answers: list[dict] = [{}] * len(bodies)
    next_i = 0
    headers = f"Authorization: Bearer {key}\r\nContent-Type: application/json\r\n"

    async def worker() -> None:
        nonlocal next_i
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while next_i < len(bodies):
                i = next_i
                next_i += 1
                for _attempt in range(5):
                    t0 = time.perf_counter()
                    status, data = await http_request(reader, writer, "/v1/votes", bodies[i], headers)
                    latencies[i] = time.perf_counter() - t0
                    if status != 429:
                        break
                    await asyncio.sleep(0.1)
                answers[i] = {**json.loads(data), "http": status}
        finally:
            writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, answers, time.perf_counter() - t0


def descendants(pid: int) -> list[int]:
    """``pid`` and all its descendants (Linux /proc), e.g. uvicorn's worker processes."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        for task in Path(f"/proc/{p}/task").glob("*"):
            with contextlib.suppress(OSError):
                todo.extend(int(c) for c in (task / "children").read_text().split())
    return out


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes (Linux /proc), 0 when unavailable."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            pass
    return total


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--votes", type=int, default=50_000, help="requests to post (2%% are resends)")
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--workers", type=int, default=2, help="server processes (pbcount serve --workers)")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--record", action="store_true", help="append the figures to benchmarks/RESULTS.md")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory (stores, votes)")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="pbcount-bench-api-"))
    fx = tmp / "fixture"
    generate_paris(fx, seed=args.seed, voters=1000, paper_voters=10)
    election = load_election(fx / "election.toml")
    keys = fx / "keys"
    n_resend = args.votes // 50
    n_distinct = args.votes - n_resend
    t0 = time.perf_counter()
    votes = make_votes(election, keys, n_distinct, args.seed)
    print(f"made {n_distinct:,} signed votes in {time.perf_counter() - t0:.1f} s")
    rng = random.Random(args.seed)
    order = list(range(n_distinct)) + [rng.randrange(n_distinct) for _ in range(n_resend)]
    rng.shuffle(order)
    bodies = [json.dumps(votes[i]).encode() for i in order]

    # ---- baseline: CLI ingestion of the same distinct votes
    jsonl = tmp / "votes.jsonl"
    jsonl.write_text("".join(json.dumps(v) + "\n" for v in votes), encoding="utf-8")
    cli_store = Store.open(f"sqlite:///{tmp / 'cli.db'}")
    t0 = time.perf_counter()
    rep = ingest_evote_file(cli_store, jsonl, election, load_public_key(keys), load_receipt_secret(keys))
    cli_s = time.perf_counter() - t0
    cli_store.close()
    cli_rate = rep.lines / cli_s
    print(f"CLI ingestion: {rep.lines:,} lines in {cli_s:.1f} s = {cli_rate:,.0f} votes/s "
          f"({rep.accepted:,} accepted)")
    if rep.accepted != n_distinct:
        print(f"FAIL: CLI accepted {rep.accepted} of {n_distinct}")
        return 1

    # ---- the API under load
    db_url = f"sqlite:///{tmp / 'api.db'}"
    store = Store.open(db_url)
    store.freeze_election(election)
    _, op_key = ApiKeyStore(store).create("operator", "bench")
    port = free_port()
    server = start_server(db_url, keys, port, args.workers)
    try:
        time.sleep(1.0 if args.workers > 1 else 0)  # let every worker finish starting
        pids = descendants(server.pid)
        cpu0 = cpu_seconds(pids)
        latencies, answers, wall = asyncio.run(post_all(port, op_key, bodies, args.concurrency))
        server_cpu = cpu_seconds(pids) - cpu0
    finally:
        stop_server(server)
    codes: dict[int, int] = {}
    for a in answers:
        codes[a["http"]] = codes.get(a["http"], 0) + 1
    acked = [a for a in answers if a["http"] in (200, 201)]
    rate = len(acked) / wall
    p50, p99 = pct(latencies, 0.50), pct(latencies, 0.99)
    print(f"API ({args.workers} server processes): {len(bodies):,} requests, concurrency {args.concurrency}, "
          f"{wall:.1f} s: "
          f"{rate:,.0f} votes/s sustained; latency p50 {1000 * p50:.1f} ms, p99 {1000 * p99:.1f} ms; "
          f"status codes {dict(sorted(codes.items()))}")
    cpu_ms = 1000 * server_cpu / len(bodies)
    print(f"server CPU: {server_cpu:.1f} s = {cpu_ms:.2f} ms per request "
          f"(at this cost one free core would sustain about {1000 / cpu_ms:,.0f} votes/s)"
          if cpu_ms else "server CPU: n/a")

    # ---- zero lost, zero counted twice
    sent_receipts = {a["receipt_id"] for a in acked}
    stored = list(store.iter_ballots())
    stored_receipts = [b.receipt_id for b in stored]
    lost = sent_receipts - set(stored_receipts)
    unacked = set(stored_receipts) - sent_receipts
    doubled = len(stored_receipts) - len(set(stored_receipts))
    created = sum(1 for a in acked if a["http"] == 201)
    result = count_store(store, persist=False)
    counted = len(result.dedup.counted)
    ok = (not lost and not unacked and doubled == 0 and len(stored) == n_distinct and created == n_distinct
          and counted == n_distinct and codes.get(201, 0) + codes.get(200, 0) == len(bodies))
    print(f"store: {len(stored):,} ballots for {n_distinct:,} distinct votes; lost {len(lost)}, "
          f"stored-but-unacknowledged {len(unacked)}, doubled {doubled}; 201 answers {created:,}, "
          f"200 (resends) {codes.get(200, 0):,}; counted {counted:,}: {'OK' if ok else 'FAIL'}")
    ratio = rate / cli_rate
    print(f"ratio API / CLI ingestion: {ratio:.2f} (target: at least 1,000 votes/s sustained: "
          f"{'met' if rate >= 1000 else 'NOT met'})")
    store.close()
    if not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    if args.record:
        record(args, rate, p50, p99, cli_rate, ratio, cpu_ms, ok)
    return 0 if ok else 1


def record(args: argparse.Namespace, rate: float, p50: float, p99: float, cli_rate: float, ratio: float,
           cpu_ms: float, ok: bool) -> None:
    path = ROOT / "benchmarks" / "RESULTS.md"
    today = dt.date.today().isoformat()
    line = (f"| {today} | {args.votes:,} | {args.concurrency} | {args.workers} | {rate:,.0f} | {1000 * p50:.1f} | "
            f"{1000 * p99:.1f} | {cpu_ms:.2f} | {cli_rate:,.0f} | {ratio:.2f} | {'yes' if ok else 'NO'} |\n")
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    header = "## HTTP vote intake (benchmarks/bench_api.py)"
    if header not in text:
        text += (f"\n{header}\n\nMachine: 2 cores, 24 GiB, shared with other jobs (noisy); "
                 f"{os.cpu_count()} CPUs seen. `pbcount serve --workers N` (uvicorn, SQLite, group commit) "
                 "and an asyncio HTTP/1.1 keep-alive load generator in the benchmark process, both on 127.0.0.1. "
                 "Baseline: CLI ingestion "
                 "(`ingest_evote_file`, process pool) of the same distinct votes in the same run.\n\n"
                 "| date | requests | concurrency | server processes | API votes/s | p50 ms | p99 ms | "
                 "server CPU ms/vote | CLI votes/s | "
                 "API/CLI | zero lost, zero doubled |\n|---|---|---|---|---|---|---|---|---|---|---|\n")
    start = text.index(header)
    nxt = text.find("\n## ", start + len(header))
    end = len(text) if nxt == -1 else nxt
    lines = text[start:end].splitlines(keepends=True)
    last_row = max(i for i, ln in enumerate(lines) if ln.startswith("|"))  # the row goes under the table
    lines.insert(last_row + 1, line)
    text = text[:start] + "".join(lines) + text[end:]
    path.write_text(text, encoding="utf-8")
    print(f"recorded in {path}")


if __name__ == "__main__":
    sys.exit(main())
