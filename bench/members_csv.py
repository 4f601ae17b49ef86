"""Benchmark: the member list's CSV download (`members:index_csv`) of 100,000 members, streamed a chunk at a time,
against reading the same members into a list (`list(queryset.values_list(...))`) in the same run.

    DATABASE_URL=postgres://... .venv/bin/python bench/members_csv.py [--members 100000] [--runs 3]

Two stores (Los Angeles in USD, Shanghai in CNY: the list orders by store first) get --members members between
them (INSERT … SELECT), some opted out, some with a name like a formula. A user who manages one store and operates
the other downloads the whole list. Each way is timed as the median of --runs (the two ways taking turns): the
download read to its last byte through Django's test client, the baseline's list built. Peak memory is measured
first, in one more run of each: Python's allocations (tracemalloc) and the process's resident set (its high-water
mark, reset before each way, which counts the database driver's buffers too). The file must hold every member once,
in the list's order, with phones masked for the operated store and whole for the managed one, or it exits 1.
Everything happens in one transaction that is rolled back.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsdesk.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402

from members.exports import MEMBER_FIELDS  # noqa: E402
from members.member_list import member_list  # noqa: E402
from opsdesk.spreadsheet import spreadsheet_text  # noqa: E402
from stores.models import Role, Store, StoreMembership  # noqa: E402

# Members of both stores; every 50th opted out, every 1,000th named like a formula.
MEMBERS_SQL = """
INSERT INTO members_member (store_id, phone, name, email, timezone, sms_consent, consent_source, opted_out_at,
                            joined_at, orders_count, rfm, segment, tier, total_spent)
SELECT CASE WHEN n %% 2 = 0 THEN %(us)s ELSE %(cn)s END,
       CASE WHEN n %% 2 = 0 THEN '+1415' || lpad(n::text, 7, '0') ELSE '+86138' || lpad(n::text, 8, '0') END,
       CASE WHEN n %% 1000 = 0 THEN '=HYPERLINK("http://x.example","' || n || '")' ELSE 'Buyer ' || n END,
       '', '', n %% 3 > 0, 'bench', CASE WHEN n %% 50 = 0 THEN now() END,
       now() - (n %% 700) * interval '1 day' - (n %% 24) * interval '1 hour', 1 + n %% 9, '',
       (ARRAY['champions', 'loyal', 'at_risk', 'lost', ''])[1 + n %% 5],
       (ARRAY['standard', 'silver', 'gold'])[1 + n %% 3],
       round((n %% 5000 + random())::numeric, 2)
FROM generate_series(1, %(members)s) AS n
"""


def rss_peak_reset() -> int:
    """Reset the process's resident-set high-water mark (Linux) and return the resident set now, in KB."""
    Path("/proc/self/clear_refs").write_text("5")
    return _status_kb("VmRSS")


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


def streamed(client: Client, url: str) -> tuple[int, int]:
    """The download read to its last byte, as a browser saves it: (bytes, lines)."""
    size = lines = 0
    for chunk in client.get(url).streaming_content:
        size += len(chunk)
        lines += chunk.count(b"\n")
    return size, lines


def listed(user) -> list[tuple]:
    """The baseline: the same members, in the same order, read into a list."""
    return list(member_list(user, {}).members.values_list(*[f.replace("store", "store_id") for f in MEMBER_FIELDS]))


def measured(run) -> tuple[float, float]:
    """(tracemalloc peak MB, resident-set peak growth MB) of one call of `run`."""
    before = rss_peak_reset()
    tracemalloc.start()
    run()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20, max(_status_kb("VmHWM") - before, 0) / 1024


def same_as_list(client: Client, url: str, user, managed: str) -> tuple[bool, bool]:
    """(every member once in the list's order, names as the spreadsheet-safe text; phones whole for the managed
    store's members and masked for the others)."""
    rows = list(csv.reader(io.StringIO(b"".join(client.get(url).streaming_content).decode())))[1:]
    expected = [spreadsheet_text(name) for name in member_list(user, {}).members.values_list("name", flat=True)]
    phones = all(("*" not in phone) == (store == managed) for _, store, phone, *_ in rows)
    return [row[0] for row in rows] == expected, phones


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=100_000, help="members of the two stores together")
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each way (median)")
    args = parser.parse_args()
    settings.DEBUG = False
    url = reverse("members:index_csv")
    ok = True
    with transaction.atomic():
        us = Store.objects.create(name="Bench Outfitters", slug="bench-csv-us", country="US",
                                  timezone="America/Los_Angeles", currency="USD")
        cn = Store.objects.create(name="Bench Tea", slug="bench-csv-cn", country="CN", timezone="Asia/Shanghai",
                                  currency="CNY")
        began = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(MEMBERS_SQL, {"us": us.pk, "cn": cn.pk, "members": args.members})
            cursor.execute("ANALYZE members_member")
        fill_s = time.perf_counter() - began
        user = get_user_model().objects.create_user("bench-members-csv")
        StoreMembership.objects.create(user=user, store=us, role=Role.MANAGER)
        StoreMembership.objects.create(user=user, store=cn, role=Role.OPERATOR)
        client = Client()
        client.force_login(user)

        # Memory first, while nothing of this run was allocated and freed yet (freed memory the process keeps would
        # hide the next one's growth in its resident set).
        stream_py, stream_rss = measured(lambda: streamed(client, url))
        list_py, list_rss = measured(lambda: listed(user))
        times = {"stream": [], "list": []}
        for _ in range(args.runs):
            began = time.perf_counter()
            size, lines = streamed(client, url)
            times["stream"].append(time.perf_counter() - began)
            began = time.perf_counter()
            listed(user)
            times["list"].append(time.perf_counter() - began)
        with CaptureQueriesContext(connection) as queries:
            streamed(client, url)
        counted = len(queries)  # now: the next request's start empties the log the context reads
        same, phones = same_as_list(client, url, user, us.name)
        ok = same and phones and lines == 1 + args.members
        transaction.set_rollback(True)

    stream_s, list_s = statistics.median(times["stream"]), statistics.median(times["list"])
    lines_out = [
        f"## members_csv ({connection.vendor}, {args.members:,} members of two stores, median of {args.runs} runs)",
        "",
        f"`.venv/bin/python bench/members_csv.py --members {args.members} --runs {args.runs}`",
        "",
        f"{args.members:,} members (written in {fill_s:.1f} s), one user managing one store and operating the other; "
        f"the whole list downloaded ({size / 2**20:,.1f} MB, {lines:,} lines, {counted} queries) against the "
        f"same members read into a list of tuples. Load average {os.getloadavg()[0]:.1f} at the end (2 cores).",
        "",
        "| way | time (s) | rows/s | peak Python memory (MB, tracemalloc) | peak resident set growth (MB) |",
        "| --- | ---: | ---: | ---: | ---: |",
        f"| CSV download, streamed (`members:index_csv`) | {stream_s:.2f} | {args.members / stream_s:,.0f} "
        f"| {stream_py:.1f} | {stream_rss:.1f} |",
        f"| baseline: `list(queryset.values_list(...))` | {list_s:.2f} | {args.members / list_s:,.0f} "
        f"| {list_py:.1f} | {list_rss:.1f} |",
        "",
        f"- every member once, in the list's order, formula-like names quoted: {'yes' if same else 'NO'}; phones whole "
        f"for the managed store's members and masked for the operated one's: {'yes' if phones else 'NO'}",
    ]
    if not ok:
        lines_out += ["", "FAILED: the file differs from the list."]
    print("\n".join(lines_out))
    out = Path(__file__).resolve().parent / "results" / "members_csv.md"
    out.write_text("\n".join(lines_out) + "\n", encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
