"""Related-sales pair table on synthetic baskets (no database): how long the pandas part takes.

    .venv/bin/python bench/related_sales.py --orders 200000 --products 500 --anchors 5
"""

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd


def main() -> None:
    import os
    import sys

    import django

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsdesk.settings")
    django.setup()
    from campaigns.activity_related import pair_table

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--products", type=int, default=300)
    parser.add_argument("--anchors", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    sizes = rng.choice([1, 1, 1, 2, 2, 3], size=args.orders)
    orders = np.repeat(np.arange(args.orders), sizes)
    popularity = rng.pareto(1.5, args.products) + 1
    products = rng.choice(args.products, size=len(orders), p=popularity / popularity.sum())
    baskets = pd.DataFrame({"order": orders, "product": products}).drop_duplicates()
    anchors = baskets["product"].value_counts().index[: args.anchors]
    lines = [f"## related_sales\n\n`.venv/bin/python bench/related_sales.py --orders {args.orders} "
             f"--products {args.products} --anchors {args.anchors}`\n"]
    for label, kwargs in [("all pairs (baseline)", {}), (f"{args.anchors} anchors", {"anchors": anchors})]:
        start = time.perf_counter()
        table = pair_table(baskets, **kwargs)
        line = f"{label}: {len(baskets):,} order lines, {len(table):,} pairs in {time.perf_counter() - start:.2f} s"
        print(line)
        lines.append(f"- {line}")
    out = Path(__file__).resolve().parent / "results" / "related_sales.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
