"""The report of bench/ab.sh and bench/surfaces.sh: two sides measured in alternating rounds.

    compare_report.py RUN ROUNDS "CONCURRENCY..." SIDE_A SIDE_B

Reads RUN/SIDE-rROUND-cC.wrk.txt (the one-line JSON summary of bench/wrk/summary.lua) and prints,
per concurrency and side, the median over the rounds of req/s, p50 and p99, and B's change
against A; failed requests (wrk errors, statuses other than 2xx) are counted beside them.
"""

import json
import statistics
import sys


def summary(run, side, round_, concurrency):
    lines = [line for line in open(f"{run}/{side}-r{round_}-c{concurrency}.wrk.txt") if line.startswith('{"requests"')]
    return json.loads(lines[-1])


def main(run, rounds, concurrency, side_a, side_b):
    rounds, width = int(rounds), max(len(side_a), len(side_b), 4) + 2
    print(f"{'c':>3} {'side':>{width}} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}   (median of {rounds} rounds)")
    for c in concurrency.split():
        medians = {}
        for side in (side_a, side_b):
            runs = [summary(run, side, r, c) for r in range(1, rounds + 1)]
            failed = sum(s["errors"] for s in runs) + sum(n for s in runs for code, n in (s["status"] or {}).items() if not code.startswith("2"))
            medians[side] = {key: statistics.median(s[key] for s in runs) for key in ("requests_per_s", "p50_ms", "p99_ms")}
            m = medians[side]
            print(f"{c:>3} {side:>{width}} {m['requests_per_s']:>9.1f} {m['p50_ms']:>8.3f} {m['p99_ms']:>8.3f}" + (f"   {failed} failed" if failed else ""))
        a, b = medians[side_a], medians[side_b]
        change = lambda key: 100 * (b[key] / a[key] - 1)  # noqa: E731
        print(f"{c:>3} {'B/A':>{width}} {change('requests_per_s'):>+8.1f}% {change('p50_ms'):>+7.1f}% {change('p99_ms'):>+7.1f}%")


if __name__ == "__main__":
    main(*sys.argv[1:6])
