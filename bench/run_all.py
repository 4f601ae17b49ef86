"""Run every benchmark and rewrite bench/RESULTS.md with each one's figures beside its baseline.

    .venv/bin/python bench/run_all.py            # standard sizes (what RESULTS.md records)
    .venv/bin/python bench/run_all.py --quick    # small sizes, a smoke run
    .venv/bin/python bench/run_all.py ingest     # only the named benchmarks

Each benchmark is a script in bench/ that prints its own figures and baseline; this runner only
runs them one after another (they share two cores, so never in parallel) and keeps what they print.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent

# name -> (script, standard args, quick args). Scripts that are not in the tree yet are skipped.
BENCHMARKS: dict[str, tuple[str, list[str], list[str]]] = {}


def register(name: str, script: str, standard: list[str], quick: list[str]) -> None:
    BENCHMARKS[name] = (script, standard, quick)


# Standard sizes are the ones RESULTS.md records; quick sizes only check that each still runs.
register("ingest", "ingest.py", ["--events", "100000", "--rounds", "5", "--batch", "1000", "--clients", "4"],
         ["--events", "2000", "--no-write"])
register("load", "load_ingest.py", ["--clients", "50", "--seconds", "60"], ["--quick"])
# live view: 10 M historical events (generated in SQL, ~3 min) and the live requests, ~4-5 min in all.
register("live view", "live_view.py", ["--events", "10000000", "--days", "365", "--requests", "30"],
         ["--events", "20000", "--days", "2", "--requests", "10"])
register("nightly", "nightly.py", ["--sizes", "10,100,1000", "--orders", "20"], ["--sizes", "10,100", "--orders", "10"])
register("anomaly eval", "anomaly_eval.py", ["--trials", "20", "--rc-trials", "200", "--seed", "7", "--seeds", "5"],
         ["--trials", "3", "--rc-trials", "20", "--seed", "7", "--seeds", "1"])
# sms fanout: 20 k members here (about 3 minutes); the 100 k run is the command in its RESULTS.md section.
register("sms fanout", "sms_fanout.py", ["--members", "20000", "--rate", "150", "--threads", "8",
                                         "--baseline-members", "1000"],
         ["--members", "300", "--rate", "50", "--threads", "4", "--baseline-members", "50", "--no-write"])
register("ads import", "ads_import.py", ["--plans", "20", "--days", "90"], ["--plans", "5", "--days", "10"])
register("order import", "order_import.py", ["--rows", "100000"], ["--rows", "2000", "--baseline-rows", "500"])
register("reviews import", "reviews_import.py", ["--copies", "1"], ["--copies", "1"])
register("review counts", "review_counts.py", ["--reviews", "200000", "--runs", "3"],
         ["--reviews", "5000", "--runs", "2"])
register("related sales", "related_sales.py", ["--orders", "200000"], ["--orders", "20000"])
register("live list", "live_list.py", ["--sizes", "10,100,300", "--orders", "40", "--days", "30", "--runs", "7"],
         ["--sizes", "2,10", "--orders", "5", "--days", "3", "--runs", "2"])
register("daily list", "daily_list.py", ["--sizes", "10,100,300", "--days", "60", "--runs", "3"],
         ["--sizes", "2,10", "--days", "10", "--runs", "1"])
register("desk", "desk.py", ["--sizes", "10,100,300", "--orders", "5", "--runs", "5"],
         ["--sizes", "2,10", "--orders", "2", "--runs", "1"])
register("many stores", "many_stores.py", ["--sizes", "10,100,300", "--orders", "5", "--runs", "5"],
         ["--sizes", "2,10", "--orders", "2", "--runs", "1"])
register("pages", "pages.py", ["--scale", "1", "--runs", "5"], ["--scale", "0.02", "--runs", "3"])
register("members csv", "members_csv.py", ["--members", "100000", "--runs", "3"], ["--members", "2000", "--runs", "1"])
register("pictures", "pictures.py", ["--runs", "7"], ["--width", "1200", "--height", "900", "--runs", "2"])
register("email charts", "email_charts.py", ["--runs", "7"], ["--runs", "2"])


def run(name: str, quick: bool) -> str:
    script, standard, small = BENCHMARKS[name]
    args = small if quick else standard
    command = " ".join([".venv/bin/python", f"bench/{script}", *args])
    started = time.monotonic()
    result = subprocess.run([sys.executable, str(BENCH / script), *args], cwd=ROOT, env=os.environ.copy(),
                            capture_output=True, text=True)
    took = time.monotonic() - started
    body = result.stdout.strip() or "(no output)"
    if result.returncode:
        body += f"\n\nFAILED (exit {result.returncode}):\n{result.stderr.strip()[-3000:]}"
    print(f"## {name}\n{body}\n", flush=True)
    return f"## {name}\n\nCommand: `{command}` ({took:.0f} s)\n\n```\n{body}\n```\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--quick", action="store_true", help="small sizes; does not rewrite RESULTS.md")
    options = parser.parse_args()
    names = options.names or [n for n, (script, _, _) in BENCHMARKS.items() if (BENCH / script).exists()]
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmarks {unknown}; known: {sorted(BENCHMARKS)}")
    sections = [run(name, options.quick) for name in names]
    if options.quick:
        return 0
    header = (
        "# Benchmark results\n\n"
        f"Written by `.venv/bin/python bench/run_all.py` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"database `{os.environ.get('DATABASE_URL', 'sqlite (default)').split('@')[-1]}`.\n"
        "Each section is the benchmark's own output: its figures beside the baseline measured in the same run.\n\n"
    )
    (BENCH / "RESULTS.md").write_text(header + "\n".join(sections))
    return 0


if __name__ == "__main__":
    sys.exit(main())
