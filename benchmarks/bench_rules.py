"""Benchmark: our allocation rules vs pabutools 1.2.3 on the largest real instances, same run.

Run: ``.venv/bin/python benchmarks/bench_rules.py [--repeat 5] [--pabutools all|cheap|none]
[--pabutools-add1] [--record]``

For Łódź 2022 (90,494 voters x 160 projects) and Warsaw 2026 (61,668 x 83), from
``../shared/pabulib``:

* parsing: ``engine.formats.pabulib.read_pabulib`` + building the problem (numpy approval
  profile) vs ``pabutools.election.parse_pabulib``;
* ``greedy``, ``mes`` (and on Warsaw ``mes-add1-greedy``: MES + add1 + greedy completion)
  vs ``greedy_utilitarian_welfare`` / ``method_of_equal_shares`` (``Cost_Sat``, exact
  fractions, lexicographic tie-break on both sides, no score threshold as pabutools has
  none), checking that both select the same projects.

Ours: median of ``--repeat`` runs (CPU-bound, wall time); pabutools: one run (about 20 s
per rule here). ``--pabutools cheap`` (the default) runs pabutools only where it is cheap:
parsing both files and plain MES on Warsaw 2026 (the baseline printed next to our MES +
add1 + greedy, since pabutools' own MES + add1 + greedy takes 366 s); ``all`` also runs its
greedy and MES on both files; ``none`` skips it. Peak
memory: ``tracemalloc`` peak of Python + numpy allocations during one extra run of ours.
pabutools' MES + add1 + greedy takes ~6 minutes and 10 GB on Warsaw 2026, so by default
its figure is the one recorded in ``../shared/REFERENCE.md`` (366 s, 10.3 GB, measured on
this machine type) and it is rerun only with ``--pabutools-add1``.

Also: the whole Paris-scale fixture (21 envelopes, ~600 projects, 93,000 ballots with
one city-wide and one district envelope each, the 1/3 popular-neighbourhood quota)
allocated with ``engine.counting.allocation.allocate_election`` (tally excluded), with its
baseline the same allocation without quotas, and with every envelope switched to MES.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import platform
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any, cast

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.counting.allocation import allocate_election  # noqa: E402
from engine.counting.tally import tally  # noqa: E402
from engine.formats.pabulib import allocation_problem, read_pabulib  # noqa: E402
from engine.model.ballots import Ballot, Channel, Selections, SourceRef, ballot_key  # noqa: E402
from engine.model.election import Election  # noqa: E402
from engine.rules import RULES  # noqa: E402

PABULIB = Path(os.environ.get("PBCOUNT_PABULIB_DIR") or ROOT.parent / "shared" / "pabulib")  # as tests/conftest.py
FILES = {"Łódź 2022": "Poland_Lodz_2022.pb", "Warsaw 2026": "Poland_Warszawa_2026.pb"}
PABUTOOLS_ADD1_WARSAW = (366.0, 10.3e9)  # seconds, bytes: ../shared/REFERENCE.md ("here")


def timed_cpu(fn: Callable[[], Any], repeat: int) -> tuple[float, Any, float]:
    """Median wall time of ``repeat`` calls, the last result, and the median CPU time."""
    times, cpu, out = [], [], None
    for _ in range(repeat):
        gc.collect()
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(times), out, statistics.median(cpu)


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    wall, out, _ = timed_cpu(fn, repeat)
    return wall, out


def peak_bytes(fn: Callable[[], Any]) -> int:
    gc.collect()
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def bench_file(label: str, name: str, repeat: int, pabutools_add1: bool, pabutools: str) -> list[dict[str, Any]]:
    from pabutools.election import Cost_Sat, parse_pabulib
    from pabutools.rules import (
        completion_by_rule_combination,
        exhaustion_by_budget_increase,
        greedy_utilitarian_welfare,
        method_of_equal_shares,
    )

    path = PABULIB / name
    rows: list[dict[str, Any]] = []

    def ours_parse() -> Any:
        return allocation_problem(read_pabulib(path), score="votes", apply_threshold=False)

    t_ours, problem, cpu_parse = timed_cpu(ours_parse, repeat)
    m_ours = peak_bytes(ours_parse)
    if pabutools == "none":
        print(f"{label}: parse ours {t_ours:.3f}s", flush=True)
        rows.append({"file": label, "step": "parse", "ours": t_ours, "pabutools": None, "peak": m_ours, "same": "-",
                     "cpu": cpu_parse})
        inst = prof = None
    else:
        t0 = time.perf_counter()
        inst, prof = parse_pabulib(str(path))
        t_pt = time.perf_counter() - t0
        rows.append({"file": label, "step": "parse", "ours": t_ours, "pabutools": t_pt, "peak": m_ours, "same": "-",
                     "cpu": cpu_parse})
        print(f"{label}: parse ours {t_ours:.3f}s, pabutools {t_pt:.2f}s, x{t_pt / t_ours:.0f}", flush=True)

    warsaw = label.startswith("Warsaw")
    run_pt_greedy = pabutools == "all"
    run_pt_mes = pabutools == "all" or (pabutools == "cheap" and warsaw)
    steps: list[tuple[str, str, Callable[[], Any] | None]] = [
        ("greedy", "greedy",
         (lambda: greedy_utilitarian_welfare(inst, prof, sat_class=Cost_Sat)) if run_pt_greedy else None),
        ("mes", "mes", (lambda: method_of_equal_shares(inst, prof, sat_class=Cost_Sat)) if run_pt_mes else None),
    ]
    if label.startswith("Warsaw"):
        def pt_add1() -> Any:
            assert prof is not None  # parsed above: Warsaw files are always parsed by pabutools
            mes_add1 = exhaustion_by_budget_increase(
                inst, prof, method_of_equal_shares, {"sat_class": Cost_Sat},
                budget_step=prof.num_ballots(), exhaustive_stop=False)
            return completion_by_rule_combination(
                inst, prof, [greedy_utilitarian_welfare], [{"sat_class": Cost_Sat}],
                initial_budget_allocation=mes_add1)
        steps.append(("mes+add1+greedy", "mes-add1-greedy", pt_add1 if pabutools_add1 else None))
    for step, rule, theirs_fn in steps:
        t_ours, res, cpu_rule = timed_cpu(partial(RULES[rule], problem, "lexicographic"), repeat)
        m = peak_bytes(partial(RULES[rule], problem, "lexicographic"))
        t_theirs: float | None
        if theirs_fn is not None:
            t0 = time.perf_counter()
            theirs = theirs_fn()
            t_theirs = time.perf_counter() - t0
            same = "yes" if {p.name for p in theirs} == set(res.selected) else "NO"
            src = "measured"
        elif rule == "mes-add1-greedy":
            t_theirs, same, src = PABUTOOLS_ADD1_WARSAW[0], "recorded", "REFERENCE.md"
        else:
            t_theirs, same, src = None, "-", "not run"
        rows.append({"file": label, "step": step, "ours": t_ours, "pabutools": t_theirs, "peak": m, "same": same,
                     "source": src, "cpu": cpu_rule})
        theirs_txt = f"pabutools {t_theirs:.1f}s ({src}), x{t_theirs / t_ours:.0f}" if t_theirs else "pabutools not run"
        print(f"{label}: {step} ours {t_ours:.3f}s (peak {m / 1e6:.0f} MB, {len(res.selected)} projects), "
              f"{theirs_txt}, same outcome: {same}", flush=True)
    return rows


def paris_ballots(e: Election, n: int, seed: int = 2026) -> list[Ballot]:
    rnd = random.Random(seed)
    pop = {p.id: rnd.paretovariate(1.3) for p in e.projects}
    districts = [x for x in e.envelopes if x.kind == "district"]
    weights = [len(e.projects_in(x.id)) for x in districts]
    city = [p.id for p in e.projects_in("paris")]
    out = []
    for i in range(n):
        d = rnd.choices(districts, weights)[0]
        ids = [p.id for p in e.projects_in(d.id)]
        sel = []
        for env_id, pool in (("paris", city), (d.id, ids)):
            k = min(len(pool), rnd.randint(1, 4))
            chosen: set[str] = set()
            while len(chosen) < k:
                chosen.add(rnd.choices(pool, [pop[x] for x in pool])[0])
            sel.append((env_id, tuple(sorted(chosen))))
        selections = cast(Selections, tuple(sorted(sel)))  # ids of the generated election
        serial = f"v{i}"
        key = ballot_key(Channel.ONLINE, serial, "", selections, None)
        out.append(Ballot(key, serial, Channel.ONLINE, "", selections, SourceRef("bench", i + 1)))
    return out


def bench_paris(repeat: int) -> list[dict[str, Any]]:
    import tempfile

    from engine.formats.election_definition import load_election
    from fixtures.paris import generate_paris

    with tempfile.TemporaryDirectory() as tmp:
        generate_paris(Path(tmp), seed=2026, voters=50, paper_voters=0)
        e = load_election(Path(tmp) / "election.toml")
    ballots = paris_ballots(e, 93_000)
    t = tally(e, ballots)
    no_quota = replace(e, quotas=())
    mes_env = replace(e, quotas=(), envelopes=tuple(replace(x, rule="mes") for x in e.envelopes))
    t_base, _ = timed(lambda: allocate_election(no_quota, t, ballots), repeat)
    t_q, alloc = timed(lambda: allocate_election(e, t, ballots), repeat)
    t_mes, _ = timed(lambda: allocate_election(mes_env, t, ballots), repeat)
    met = sum(all(r.met for r in a.quota_reports) for a in alloc.envelopes.values())
    print(f"Paris fixture (21 envelopes, 93,000 ballots): greedy+quota {t_q:.3f}s "
          f"(quota met in {met}/21), plain greedy {t_base:.3f}s, ratio {t_q / t_base:.2f}; all MES {t_mes:.3f}s")
    return [{"file": "Paris fixture", "step": "allocate 21 envelopes (greedy + quota)", "ours": t_q,
             "pabutools": None, "baseline": t_base, "mes": t_mes, "met": met}]


def record(rows: list[dict[str, Any]], paris: list[dict[str, Any]], repeat: int) -> None:
    path = ROOT / "benchmarks" / "RESULTS.md"
    text = path.read_text(encoding="utf-8")
    head = "## Allocation rules — `bench_rules.py` (issue 3)"
    lines = []
    if head not in text:
        lines += ["", head, "",
                  "Ours (median of runs) vs pabutools 1.2.3 (one run, exact fractions, `Cost_Sat`) on the",
                  "same parsed file, lexicographic tie-break, same run. Peak = tracemalloc peak of ours.",
                  "",
                  "| date | file | step | ours s | pabutools s | speed-up | ours peak MB | same outcome |",
                  "|---|---|---|---|---|---|---|---|"]
    today = dt.date.today().isoformat()
    for r in rows:
        src = " (recorded)" if r.get("source") == "REFERENCE.md" else ""
        pt, speed = ((f"{r['pabutools']:.1f}{src}", f"x{r['pabutools'] / r['ours']:.0f}") if r["pabutools"]
                     else ("- (not run)", "-"))
        lines.append(f"| {today} | {r['file']} | {r['step']} | {r['ours']:.3f} | {pt} | "
                     f"{speed} | {r['peak'] / 1e6:.0f} | {r['same']} |")
    for p in paris:
        lines.append(f"| {today} | Paris fixture, 93,000 ballots | {p['step']} | {p['ours']:.3f} | "
                     f"- (plain greedy {p['baseline']:.3f}; all-MES {p['mes']:.3f}) | "
                     f"ratio {p['ours'] / p['baseline']:.2f} vs plain | - | quota met in {p['met']}/21 |")
    marker = "<!-- bench_rules rows end -->"
    if marker in text:
        text = text.replace(marker, "\n".join(lines).lstrip("\n") + "\n" + marker)
    else:
        text = text.rstrip("\n") + "\n" + "\n".join(lines) + "\n" + marker + "\n"
    path.write_text(text, encoding="utf-8")
    print(f"recorded in {path} ({repeat} runs of ours per figure)")


def summary(rows: list[dict[str, Any]], repeat: int) -> None:
    """The issue-14 figures with their targets and the pabutools baseline of the same run."""
    by = {(r["file"], r["step"]): r for r in rows}
    print(f"\nmachine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.1f}; ours = median of {repeat}")
    lodz = by[("Łódź 2022", "parse")]
    pt = f"pabutools parse {lodz['pabutools']:.2f}s in this run" if lodz["pabutools"] else "pabutools not run"
    print(f"parse Łódź 2022 (read + problem):   {lodz['ours']:.3f}s wall, {lodz['cpu']:.3f}s CPU  "
          f"(target ≤ 0.3 s; {pt})")
    add1, mes = by[("Warsaw 2026", "mes+add1+greedy")], by[("Warsaw 2026", "mes")]
    base = (f"pabutools plain MES {mes['pabutools']:.1f}s in this run (x{mes['pabutools'] / add1['ours']:.0f}); "
            if mes["pabutools"] else "")
    print(f"Warsaw 2026 MES + add1 + greedy:    {add1['ours']:.3f}s wall, {add1['cpu']:.3f}s CPU  "
          f"(target ≤ 0.4 s; {base}"
          f"pabutools MES + add1 + greedy {PABUTOOLS_ADD1_WARSAW[0]:.0f}s recorded, not rerun)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--pabutools", choices=("all", "cheap", "none"), default="cheap",
                    help="where to run pabutools in the same run (default: parse + Warsaw plain MES)")
    ap.add_argument("--pabutools-add1", action="store_true", help="rerun pabutools MES+add1+greedy (~6 min, 10 GB)")
    ap.add_argument("--record", action="store_true", help="append the figures to benchmarks/RESULTS.md")
    ap.add_argument("--skip-pabulib", action="store_true", help="only the Paris fixture")
    args = ap.parse_args()
    rows: list[dict[str, Any]] = []
    if not args.skip_pabulib:
        if not PABULIB.is_dir():
            sys.exit(f"real pabulib data not found at {PABULIB}")
        for label, name in FILES.items():
            rows += bench_file(label, name, args.repeat, args.pabutools_add1, args.pabutools)
        summary(rows, args.repeat)
    paris = bench_paris(args.repeat)
    if args.record:
        record(rows, paris, args.repeat)


if __name__ == "__main__":
    main()
