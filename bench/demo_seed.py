"""Benchmark: the demo seed (`manage.py seed_demo`), step by step: seconds and queries of `stores.demo.seed` and of
each duty app's `seed` and `finish`, in the command's order, on an emptied database (`flush`: every table empty,
Postgres sequences back at 1), with the clock frozen and the seed's fixed random state, so two runs seed the same rows
with the same ids.

    DATABASE_URL=postgres://…/opsdesk_bench .venv/bin/python bench/demo_seed.py [--days 21] [--runs 1]
    DATABASE_URL=… .venv/bin/python bench/demo_seed.py --days 45 --dump /tmp/before.txt   # every table's rows

`--dump` writes every table's rows (sorted, one a line, each table under its name) after the last run. Dump on the
old code, then on the new, and `diff` the files: the seed must write exactly the same rows. Masked, as they differ
from run to run whatever the code (`MASKED`): the users' password hashes, the creatives' file names, the rollup's
`computed_at`. Old and new cannot be timed in one run (the code is one or the other): the figures in
bench/RESULTS.md are two runs of this script, one after the other, on the commit before the change and after it.

It EMPTIES the database it runs on: never point it at one whose data you want.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsdesk.settings")

import django  # noqa: E402

django.setup()

import time_machine  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from opsdesk.desk import duty_modules  # noqa: E402
from opsdesk.schedules import setup_schedules  # noqa: E402
from stores import demo  # noqa: E402

FROZEN = datetime(2026, 11, 18, 9, 30, tzinfo=UTC)  # a Wednesday morning; any fixed instant does
# Columns that differ from run to run whatever the code: a password hash's random salt, the uuid an uploaded
# creative's file is named by, and the rollup's `computed_at` (Postgres `now()`, which the frozen clock leaves alone).
MASKED = {("auth_user", "password"), ("campaigns_adcreative", "image"), ("metrics_dailymetric", "computed_at")}


class Counter:
    def __init__(self):
        self.queries = 0

    def __call__(self, execute, sql, params, many, context):
        self.queries += 1
        return execute(sql, params, many, context)


def steps():
    """(name, callable taking the context) in the order `seed_demo` runs them."""
    modules = list(duty_modules("demo", skip=("stores",)))
    found = [(f"{m.__name__} seed", m.seed) for m in modules]
    found += [(f"{m.__name__} finish", m.finish) for m in modules if hasattr(m, "finish")]
    return found + [("setup_schedules", lambda ctx: setup_schedules())]


def run(days: int) -> list[tuple[str, float, int]]:
    call_command("flush", interactive=False, verbosity=0)
    figures = []
    with time_machine.travel(FROZEN, tick=False):
        counter = Counter()
        with connection.execute_wrapper(counter):
            started = time.perf_counter()
            ctx = demo.seed(days=days)
            figures.append(("stores.demo seed", time.perf_counter() - started, counter.queries))
            for name, step in steps():
                counter.queries = 0
                started = time.perf_counter()
                step(ctx)
                figures.append((name, time.perf_counter() - started, counter.queries))
    return figures


def dump(path: str) -> int:
    rows_written = 0
    with connection.cursor() as cursor, open(path, "w") as out:
        for table in sorted(connection.introspection.table_names(cursor)):
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - table names from the database itself
            columns = [c.name for c in cursor.description]
            masked = {i for i, c in enumerate(columns) if (table, c) in MASKED}
            rows = sorted(repr(tuple("<masked>" if i in masked else v for i, v in enumerate(row)))
                          for row in cursor.fetchall())
            out.write(f"## {table} ({len(rows)} rows) {columns}\n")
            out.writelines(row + "\n" for row in rows)
            rows_written += len(rows)
    return rows_written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=21)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--dump", help="write every table's rows to this file after the last run")
    args = parser.parse_args()
    print(f"## demo seed --days {args.days} on {connection.vendor} ({connection.settings_dict['NAME']}), "
          f"clock frozen at {FROZEN:%Y-%m-%d %H:%M} UTC")
    all_runs = [run(args.days) for _ in range(args.runs)]
    print("\n| step | " + " | ".join(f"run {n + 1} s" for n in range(args.runs)) + " | queries |")
    print("| --- |" + " ---: |" * (args.runs + 1))
    for i, (name, _, queries) in enumerate(all_runs[0]):
        print(f"| {name} | " + " | ".join(f"{r[i][1]:.2f}" for r in all_runs) + f" | {queries:,} |")
    totals = [sum(s for _, s, _ in r) for r in all_runs]
    print("| **total** | " + " | ".join(f"**{t:.2f}**" for t in totals)
          + f" | **{sum(q for _, _, q in all_runs[0]):,}** |")
    if args.dump:
        print(f"\n{dump(args.dump):,} rows dumped to {args.dump}")


if __name__ == "__main__":
    main()
