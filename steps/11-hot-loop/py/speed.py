# ANCHOR: all
"""Chapter 11's measure: the histogram of the same random bytes, every way the page compares.

`python3 speed.py` (100 MB, the best of 9 runs) prints a table and the ratio lines that `just
bench` shows; `--quick` (16 MB, one run each) is what the page runs while the book builds, and
`--html` prints the table and a chart as HTML. Timings depend on the machine and on what else
it is doing; every way is timed in the same run, on the same bytes, so their ratios compare."""

import argparse
import collections
import functools
import html
import operator
import math
import os
import random
import sys
import time

import hist
import numpy
import pyo3_hist


# ANCHOR: ways
def python_loop(data):
    counts = [0] * 256
    for byte in data:
        counts[byte] += 1
    return counts


def with_counter(data):
    counter = collections.Counter(data)
    return [counter[value] for value in range(256)]


def with_numpy(data):
    return numpy.bincount(numpy.frombuffer(data, numpy.uint8), minlength=256).tolist()
# ANCHOR_END: ways


WAYS = [
    ("python", "a for loop over the bytes", python_loop),
    ("counter", "collections.Counter(data)", with_counter),
    ("numpy", "numpy.bincount(numpy.frombuffer(data, numpy.uint8))", with_numpy),
    ("pyo3", "pyo3_hist.histogram(array): PyO3 and rust-numpy, 1 thread",
     lambda data: pyo3_hist.histogram(numpy.frombuffer(data, numpy.uint8))),
    ("rust-1", "hist.histogram(data)", hist.histogram),
    ("rust-2", "hist.histogram(data, threads=2)", lambda data: hist.histogram(data, threads=2)),
    ("read-1", "hist.parity(data): a loop that only reads", hist.parity),
    ("read-2", "hist.parity(data, threads=2)", lambda data: hist.parity(data, threads=2)),
]
SLOW = {"python", "counter"}  # timed once: seconds per run


def measure(size, runs):
    """{way: [seconds of each run]}, after checking that every way gives the same answer. The
    fast ways take turns, one run each per round, so that a moment of load elsewhere on the
    machine falls on one run of each rather than on every run of one."""
    data = random.Random(11).randbytes(size)
    seconds = {name: [] for name, _, _ in WAYS}
    results = {}
    for round_ in range(runs):
        for name, _, function in WAYS:
            if name in SLOW and round_ > 0:
                continue
            start = time.perf_counter()
            results[name] = function(data)
            seconds[name].append(time.perf_counter() - start)
    expected = results["python"]
    # The XOR of all the bytes is the XOR of the values that occur an odd number of times.
    parity = functools.reduce(operator.xor, [v for v, n in enumerate(expected) if n % 2], 0)
    for name, _, _ in WAYS:
        want = parity if name.startswith("read") else expected
        assert results[name] == want, f"{name} disagrees with python's for loop"
    return seconds


def best(seconds):
    return {name: min(runs) for name, runs in seconds.items()}


def table(seconds, size):
    seconds = best(seconds)
    lines = [f"{'way':<8} {'seconds':>8} {'MB/s':>8}   what"]
    for name, what, _ in WAYS:
        s = seconds[name]
        lines.append(f"{name:<8} {s:8.4f} {size / s / 1e6:8,.0f}   {what}")
    return "\n".join(lines)


# ANCHOR: ratios
def ratios(seconds):
    """The lines `just bench` ends with: times over times, with the chapter's goals. Two
    threads against one is the median over the rounds of each round's ratio: rust-1 and rust-2
    run back to back in a round, so a change in the machine's speed between rounds (seen here:
    one core's rate moved between 1.3 and 2.2 GB/s from one few seconds to the next) falls on
    both alike."""
    pairs = sorted(b / a for a, b in zip(seconds["rust-1"], seconds["rust-2"]))
    pair = pairs[len(pairs) // 2]
    seconds = best(seconds)
    one, numpy_, python = (seconds[k] for k in ("rust-1", "numpy", "python"))
    read, two = seconds["read-2"], seconds["rust-2"]
    return "\n".join([
        f"ratio rust-1/numpy: {one / numpy_:.3f} (goal <= 1.0: {'yes' if one <= numpy_ else 'no'})",
        f"ratio rust-2/rust-1: {pair:.3f} (the median of {len(pairs)} rounds; a speed-up of "
        f"{1 / pair:.2f}x; goal >= 1.8x: {'yes' if 1 / pair >= 1.8 else 'no'})",
        f"ratio python/rust-1: {python / one:.1f} "
        f"(goal >= 50: {'yes' if python / one >= 50 else 'no'})",
        f"bandwidth: a plain read on 2 threads (read-2) takes {read / two:.2f} of rust-2's time: "
        f"the histogram is {'compute' if read / two < 0.5 else 'memory'}-bound",
    ])
# ANCHOR_END: ratios


def html_table(seconds, size):
    seconds = best(seconds)
    out = ["<table>", "<thead><tr><th>way</th><th>what</th><th>seconds</th><th>MB/s</th></tr>"
           "</thead>", "<tbody>"]
    for name, what, _ in WAYS:
        s = seconds[name]
        out.append(f"<tr><td><code>{html.escape(name)}</code></td><td>{html.escape(what)}</td>"
                   f'<td align="right">{s:.4f}</td>'
                   f'<td align="right">{size / s / 1e6:,.0f}</td></tr>')
    return "\n".join(out + ["</tbody>", "</table>"])


def svg_chart(seconds, size):
    """MB/s per way, on a log scale."""
    seconds = best(seconds)
    label_w, panel_w, bar_h, gap, top = 80, 520, 18, 6, 30
    rows = [(name, size / seconds[name] / 1e6) for name, _, _ in WAYS]
    height = top + len(rows) * (bar_h + gap) + 24
    width = label_w + panel_w + 40
    lo = 10 ** math.floor(math.log10(min(v for _, v in rows)))
    hi = 10 ** math.ceil(math.log10(max(v for _, v in rows)))
    span = math.log10(hi) - math.log10(lo)

    def x(v):
        return label_w + (math.log10(v) - math.log10(lo)) / span * (panel_w - 60)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
             f'width="100%" style="max-width:{width}px" font-family="sans-serif" font-size="12" '
             'fill="currentColor" role="img" aria-label="Histogram of bytes: MB/s, by way">',
             f'<text x="{label_w}" y="14" font-weight="bold">MB/s (log scale; longer is faster)'
             '</text>']
    decade = lo
    while decade <= hi:
        parts.append(f'<line x1="{x(decade):.1f}" y1="{top - 8}" x2="{x(decade):.1f}" '
                     f'y2="{height - 20}" stroke="#ccc" stroke-width="1"/>')
        parts.append(f'<text x="{x(decade):.1f}" y="{height - 6}" text-anchor="middle" '
                     f'fill-opacity="0.7">{decade:,g}</text>')
        decade *= 10
    for k, (name, v) in enumerate(rows):
        y = top + k * (bar_h + gap)
        colour = "#f28e2b" if name.startswith(("rust", "pyo3")) else "#4e79a7"
        if name.startswith("read"):
            colour = "#bab0ac"
        parts.append(f'<text x="{label_w - 8}" y="{y + bar_h - 5}" text-anchor="end">'
                     f'{html.escape(name)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y}" width="{x(v) - label_w:.1f}" '
                     f'height="{bar_h}" fill="{colour}"/>')
        parts.append(f'<text x="{x(v) + 4:.1f}" y="{y + bar_h - 5}">{v:,.0f}</text>')
    parts.append("</svg>")
    return "\n".join(parts)  # no blank line: Markdown keeps an HTML block whole until one


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="16 MB, one run each (the page's)")
    ap.add_argument("--html", action="store_true", help="print an HTML table and chart")
    args = ap.parse_args()
    size, runs = (16_000_000, 1) if args.quick else (100_000_000, 9)
    seconds = measure(size, runs)
    if args.html:
        print(html_table(seconds, size))
        print(svg_chart(seconds, size))
        return
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} (figures vary by machine "
          "and load)")
    print(f"{size:,} random bytes; each time the best of {runs} runs (python and counter: 1)\n")
    print(table(seconds, size))
    print()
    print(ratios(seconds))


if __name__ == "__main__":
    sys.exit(main())
# ANCHOR_END: all
