"""What one call of `sum(2, 40)` costs, by every path from Python into native code.

Run it in a folder holding the modules it compares (the book's pipeline stages them there):

    python3 overhead.py             the table and the ratio lines: time and instructions per call
    python3 overhead.py --quick     the same, with fewer rounds (what the book's page runs)
    python3 overhead.py --facts     yes/no facts drawn from instruction counts, true on any machine
    python3 overhead.py --where NAME[@A,B]...    what a call's instructions are spent on
    python3 overhead.py --kernel NAME [NAME...]  time in the kernel, and system calls, per call

Two measures per path, taken in one run:

- wall-clock nanoseconds per call: interleaved rounds of a loop of calls, minus the same loop with
  an empty body; the minimum and the median over the rounds. Machine-dependent, and noisy on a
  busy machine.
- instructions per call, counted by valgrind's callgrind in a child process: the same loops, run
  twice with two lengths, the difference divided by the difference in length (start-up and import
  cancel out), minus the empty loop's. Deterministic: the same count on every run of the same
  build, however loaded the machine is.
"""

from __future__ import annotations

import argparse
import gc
import html
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from calls import CALL, EMPTY, PATHS, args_of, call_text, load, make_loop, parse

RUST = ["rust-varargs", "rust-fastcall", "helper", "pyo3"]
CALLS_PY = Path(__file__).with_name("calls.py")


@dataclass
class Row:
    name: str
    what: str
    missing: str | None = None
    ns_min: float | None = None
    ns_median: float | None = None
    instructions: float | None = None
    fn: object = field(default=None, repr=False)


def load_rows(folder: Path, names: list[str] | None = None) -> list[Row]:
    """Every path (or those named), each checked to return 42 for (2, 40) before it is measured."""
    return [Row(name, what, missing, fn=fn) for name, what, fn, missing in load(folder, names)]


# ---------------------------------------------------------------------------------------------
# Wall-clock time


def time_rows(rows: list[Row], rounds: int, sample_seconds: float) -> None:
    """Fill in ns_min and ns_median: `rounds` interleaved rounds, each timing every path once."""
    live = [r for r in rows if r.fn is not None]
    loops = {r.name: make_loop(CALL, args_of(r.name)) for r in live}
    baseline = make_loop(EMPTY)
    # Calibrate: enough calls per sample for it to last about sample_seconds.
    counts = {}
    for r in live:
        loops[r.name](2000, r.fn)  # warm up: let the interpreter specialise the call
        t0 = time.perf_counter()
        loops[r.name](2000, r.fn)
        per_call = (time.perf_counter() - t0) / 2000
        counts[r.name] = max(1000, int(sample_seconds / max(per_call, 1e-9)))
    base_n = max(counts.values())
    samples = defaultdict(list)
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for k in range(rounds):
            order = live[k % len(live):] + live[:k % len(live)]  # a different path goes first
            t0 = time.perf_counter_ns()
            baseline(base_n, None)
            samples["<empty>"].append((time.perf_counter_ns() - t0) / base_n)
            for r in order:
                n = counts[r.name]
                t0 = time.perf_counter_ns()
                loops[r.name](n, r.fn)
                samples[r.name].append((time.perf_counter_ns() - t0) / n)
    finally:
        if was_enabled:
            gc.enable()
    empty = samples["<empty>"]
    for r in live:
        r.ns_min = min(samples[r.name]) - min(empty)
        r.ns_median = statistics.median(samples[r.name]) - statistics.median(empty)


# ---------------------------------------------------------------------------------------------
# Instructions, counted by callgrind



def callgrind_dumps(folder: Path, specs: list[str], n1: int, n2: int):
    """Run the child under callgrind; return {spec: (dump of the N1 loop, dump of the N2 loop)}.
    A spec is a path's name, or NAME@A,B to call sum(A, B) instead of sum(2, 40)."""
    if shutil.which("valgrind") is None:
        raise Missing("valgrind not installed")
    tmp = Path(tempfile.mkdtemp(prefix="callgrind-"))
    cmd = ["valgrind", "--tool=callgrind", "--dump-before=getppid", "--separate-threads=yes",
           "--compress-strings=no", "--compress-pos=no", f"--callgrind-out-file={tmp}/cg",
           sys.executable, str(CALLS_PY), "callgrind", str(folder), str(n1), str(n2), *specs]
    # A fixed hash seed: the same dictionary layouts on every run. No asynchronous preemption
    # for a Go runtime: callgrind cannot follow the signals that Go sends its threads for it.
    env = dict(os.environ, PYTHONHASHSEED="0", GODEBUG="asyncpreemptoff=1")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        sys.exit(f"callgrind run failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    order = proc.stdout.strip().splitlines()[-1].split()
    dumps = {}
    for k, name in enumerate(order):
        # -01: the main thread only (a Go runtime's own threads do their work beside the call)
        dumps[name] = (tmp / f"cg.{3 * k + 2}-01", tmp / f"cg.{3 * k + 3}-01")
    return tmp, dumps


def total(dump: Path) -> int:
    m = re.search(r"^summary:\s*(\d+)", dump.read_text(), re.MULTILINE)
    assert m, f"no summary in {dump}"
    return int(m.group(1))


def count_instructions(rows: list[Row], folder: Path, n1: int, n2: int) -> None:
    live = [r for r in rows if r.fn is not None]
    tmp, dumps = callgrind_dumps(folder, [r.name for r in live], n1, n2)
    try:
        def per_iteration(name):
            a, b = dumps[name]
            return (total(b) - total(a)) / (n2 - n1)
        empty = per_iteration("<empty>")
        for r in live:
            r.instructions = per_iteration(r.name) - empty
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def self_costs(dump: Path) -> dict[tuple[str, str], int]:
    """Instructions spent in each function itself (callees excluded), keyed by (library, function),
    from a callgrind dump written with --compress-strings=no."""
    costs: dict[tuple[str, str], int] = defaultdict(int)
    ob, fn, skip_next = "?", ("?", "?"), False
    for line in dump.read_text().splitlines():
        if line.startswith("ob="):
            ob = os.path.basename(line[3:])
        elif line.startswith("fn="):
            fn = (ob, line[3:])
        elif line.startswith("calls="):
            skip_next = True  # the next cost line is the callee's inclusive cost
        elif line[:1].isdigit() or line[:1] in "+-*":
            parts = line.split()
            if skip_next:
                skip_next = False
            elif len(parts) == 2:
                costs[fn] += int(parts[1])
    return costs


def where(folder: Path, specs: list[str], n1: int, n2: int, top: int) -> None:
    """Print, for each path, the functions its call spends instructions in, per call.
    A spec is a path's name, or NAME@A,B to count a call of sum(A, B) instead of sum(2, 40)."""
    rows = {r.name: r for r in load_rows(folder, [parse(s)[0] for s in specs])}
    live = [s for s in specs if rows[parse(s)[0]].fn is not None]
    # A loaded Go runtime confuses callgrind's naming of the functions that run beside it (its
    # totals stay right): the Go path is counted in a process of its own.
    groups = [[s for s in live if parse(s)[0] != "go"], [s for s in live if parse(s)[0] == "go"]]
    costs = {}
    for group in filter(None, groups):
        tmp, dumps = callgrind_dumps(folder, group, n1, n2)
        try:
            def per_call(spec):
                a, b = (self_costs(d) for d in dumps[spec])
                return {f: (b.get(f, 0) - a.get(f, 0)) / (n2 - n1) for f in set(a) | set(b)}
            empty = per_call("<empty>")
            for spec in group:
                costs[spec] = {f: c - empty.get(f, 0) for f, c in per_call(spec).items()}
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    for spec in specs:
        name, args = parse(spec)
        if spec not in costs:
            print(f"{name}: {rows[name].missing}")
            continue
        cost = {f: c for f, c in costs[spec].items() if abs(c) >= 0.5}
        libraries = defaultdict(float)
        for (library, _), c in cost.items():
            libraries[library] += c
        call = call_text(rows[name].fn, args)
        print(f"{name}: {sum(cost.values()):,.0f} instructions per call of {call}")
        print("  by library:  " + ", ".join(
            f"{lib} {c:,.0f}" for lib, c in sorted(libraries.items(), key=lambda kv: -kv[1])
            if abs(c) >= 0.5))
        ranked = sorted(cost.items(), key=lambda kv: -kv[1])
        for (_, f), c in ranked[:top]:
            print(f"  {c:7,.0f}  {f}")
        if ranked[top:]:
            rest = sum(c for _, c in ranked[top:])
            others = len(ranked) - top
            print(f"  {rest:7,.0f}  (in {others} other function{'s' if others > 1 else ''})")


# ---------------------------------------------------------------------------------------------
# Time spent in the kernel, and system calls


def syscalls_per_call(folder: Path, name: str, n1: int, n2: int) -> dict[str, float]:
    """System calls per call made by the calling thread, by name: strace without -f follows the
    process's main thread only, the one that calls; two loop lengths, differenced."""
    counts = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in (n1, n2):
            out = Path(tmp) / f"strace-{n}"
            subprocess.run(["strace", "-c", "-o", str(out), sys.executable, str(CALLS_PY),
                            "loop", str(folder), name, str(n)], check=True)
            calls = {}
            for line in out.read_text().splitlines():
                cols = line.split()
                if len(cols) >= 5 and cols[0][0].isdigit() and cols[-1] != "total":
                    calls[cols[-1]] = int(cols[3])
            counts.append(calls)
    a, b = counts
    per = {s: (b.get(s, 0) - a.get(s, 0)) / (n2 - n1) for s in set(a) | set(b)}
    return {s: c for s, c in sorted(per.items(), key=lambda kv: -kv[1]) if c >= 0.05}


def kernel(folder: Path, names: list[str], seconds: float) -> None:
    """Print, per path, the calling thread's user and kernel time per call, and its system calls."""
    import resource

    print(f"{'path':<17}{'user ns':>10}{'kernel ns':>11}  system calls per call (calling thread)")
    for r in load_rows(folder, names):
        if r.fn is None:
            print(f"{r.name:<17}({r.missing})")
            continue
        loop = make_loop(CALL, args_of(r.name))
        loop(2000, r.fn)
        t0 = time.perf_counter()
        loop(2000, r.fn)
        n = max(2000, int(seconds / ((time.perf_counter() - t0) / 2000)))
        before = resource.getrusage(resource.RUSAGE_THREAD)
        loop(n, r.fn)
        after = resource.getrusage(resource.RUSAGE_THREAD)
        user = (after.ru_utime - before.ru_utime) / n * 1e9
        system = (after.ru_stime - before.ru_stime) / n * 1e9
        if shutil.which("strace"):
            calls = syscalls_per_call(folder, r.name, 100, 600)
            total_calls = sum(calls.values())
            detail = ", ".join(f"{s} {c:g}" for s, c in calls.items())
            shown = f"{total_calls:g}" + (f" ({detail})" if detail else "")
        else:
            shown = "(strace not installed)"
        print(f"{r.name:<17}{user:>10,.0f}{system:>11,.0f}  {shown}")


# ---------------------------------------------------------------------------------------------
# Ratios, goals, facts


def by_name(rows: list[Row]) -> dict[str, Row]:
    return {r.name: r for r in rows}


def fastest_rust(rows: list[Row], measure: str) -> Row | None:
    cands = [r for r in rows if r.name in RUST and getattr(r, measure) is not None]
    return min(cands, key=lambda r: getattr(r, measure)) if cands else None


RATIOS = [  # (label, numerator, denominator); "fastest" is the fastest Rust path
    ("rust-fastcall/c-fastcall", "rust-fastcall", "c-fastcall"),
    ("rust-varargs/c-varargs", "rust-varargs", "c-varargs"),
    ("fastest/operator.add", "fastest", "operator.add"),
    ("fastest/pyo3", "fastest", "pyo3"),
    ("rust-fastcall/pyo3", "rust-fastcall", "pyo3"),
    ("helper/raw-fastcall", "helper", "rust-fastcall"),  # raw: the hand-written rust-fastcall
    ("go/c-varargs", "go", "c-varargs"),
]
GOALS = [("rust-fastcall/c-fastcall", 1.02), ("rust-varargs/c-varargs", 1.02),
         ("fastest/operator.add", 1.0), ("fastest/pyo3", 0.7)]


def ratio(rows: list[Row], num: str, den: str, measure: str) -> tuple[float | None, str]:
    named = by_name(rows)
    a = fastest_rust(rows, measure) if num == "fastest" else named.get(num)
    b = named.get(den)
    for r in (a, b):
        if r is None or getattr(r, measure) is None:
            why = r.missing if r is not None and r.missing else "not measured"
            return None, f"n/a ({(r.name if r else num)}: {why})"
    value = getattr(a, measure) / getattr(b, measure)
    note = f" (fastest Rust path: {a.name})" if num == "fastest" else ""
    return value, f"{value:.2f}{note}"


def ratios(rows: list[Row]) -> dict:
    out = {}
    for label, num, den in RATIOS:
        out[label] = {m: ratio(rows, num, den, m)[0] for m in ("instructions", "ns_median")}
    return out


# Facts drawn from instruction counts, each with a wide margin: they hold for every build of the
# book (verified with CPython 3.11, 3.12 and 3.13 and this machine's gcc and rustc), so the page
# can check them. Only paths whose counts depend on CPython and the compilers alone (not Go's
# runtime, nor libffi).
FACTS = [
    ("c-fastcall < c-varargs", lambda i: i["c-fastcall"] < i["c-varargs"]),
    # The two controls split that difference: the format string, then the tuple.
    ("c-varargs-manual < c-varargs", lambda i: i["c-varargs-manual"] < i["c-varargs"]),
    ("c-fastcall < c-varargs-manual", lambda i: i["c-fastcall"] < i["c-varargs-manual"]),
    ("the tuple costs more than the format string", lambda i:
     i["c-varargs-manual"] - i["c-fastcall"] > i["c-varargs"] - i["c-varargs-manual"]),
    ("c-o <= c-fastcall-1", lambda i: i["c-o"] <= i["c-fastcall-1"]),
    ("rust-fastcall < rust-varargs", lambda i: i["rust-fastcall"] < i["rust-varargs"]),
    ("c-varargs > 2 x c-fastcall", lambda i: i["c-varargs"] > 2 * i["c-fastcall"]),
    ("rust-fastcall within 5% of c-fastcall", lambda i: near(i["rust-fastcall"], i["c-fastcall"])),
    ("rust-varargs within 5% of c-varargs", lambda i: near(i["rust-varargs"], i["c-varargs"])),
    ("rust-fastcall within 5% of operator.add",
     lambda i: near(i["rust-fastcall"], i["operator.add"])),
    ("operator.add < py-def", lambda i: i["operator.add"] < i["py-def"]),
    ("rust-fastcall < 0.7 x pyo3", lambda i: i["rust-fastcall"] < 0.7 * i["pyo3"]),
    ("pyo3 < c-varargs", lambda i: i["pyo3"] < i["c-varargs"]),
    ("every extension module < ctypes", lambda i: max(
        i[n] for n in ("c-varargs", "c-varargs-manual", "c-fastcall", "rust-varargs",
                       "rust-fastcall", "pyo3", "c-fastcall-1", "c-o")) < i["ctypes"]),
]


def near(a: float, b: float, tolerance: float = 0.05) -> bool:
    return abs(a / b - 1) <= tolerance


def print_facts(folder: Path, n1: int, n2: int) -> None:
    names = [name for name, _, _, portable in PATHS if portable and name not in ("go", "cffi")]
    rows = load_rows(folder, names)
    count_instructions(rows, folder, n1, n2)
    counts = {r.name: r.instructions for r in rows}
    for text, test in FACTS:
        print(f"{text}: {'yes' if test(counts) else 'no'}")


# ---------------------------------------------------------------------------------------------
# Output: the table, the ratio lines, JSON, HTML and an SVG chart


def fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def text_table(rows: list[Row]) -> str:
    head = ("path", "what", "ns min", "ns median", "instructions")
    body = []
    for r in rows:
        if r.missing:
            body.append((r.name, r.what, r.missing, "", ""))
        else:
            body.append((r.name, r.what, fmt(r.ns_min), fmt(r.ns_median), fmt(r.instructions, 0)))
    widths = [max(len(x[i]) for x in [head, *body]) for i in range(len(head))]
    lines = []
    for k, cells in enumerate([head, *body]):
        if k and cells[2] and not cells[3]:  # a missing row: its reason spans the figures
            lines.append(f"{cells[0]:<{widths[0]}}  {cells[1]:<{widths[1]}}  ({cells[2]})")
            continue
        lines.append(f"{cells[0]:<{widths[0]}}  {cells[1]:<{widths[1]}}  " + "  ".join(
            f"{c:>{w}}" for c, w in zip(cells[2:], widths[2:])))
    return "\n".join(lines)


def ratio_lines(rows: list[Row]) -> str:
    lines = ["# ratios of instructions per call (deterministic)"]
    for label, num, den in RATIOS:
        lines.append(f"ratio {label}: {ratio(rows, num, den, 'instructions')[1]}")
    lines.append("# ratios of median time per call (this machine, this load)")
    for label, num, den in RATIOS:
        lines.append(f"time-ratio {label}: {ratio(rows, num, den, 'ns_median')[1]}")
    lines.append("# goals (instructions)")
    for label, limit in GOALS:
        num, den = next((n, d) for lab, n, d in RATIOS if lab == label)
        value, shown = ratio(rows, num, den, "instructions")
        verdict = "n/a" if value is None else ("met" if value <= limit else "NOT met")
        lines.append(f"goal {label} <= {limit:.2f}: {verdict} ({shown})")
    return "\n".join(lines)


def html_table(rows: list[Row]) -> str:
    out = ["<table>", "<thead><tr><th>path</th><th>what</th><th>ns per call, min</th>"
           "<th>ns per call, median</th><th>instructions per call</th></tr></thead>", "<tbody>"]
    for r in rows:
        name, what = html.escape(r.name), html.escape(r.what)
        if r.missing:
            out.append(f"<tr><td><code>{name}</code></td><td>{what}</td>"
                       f"<td colspan=\"3\"><em>{html.escape(r.missing)}</em></td></tr>")
        else:
            out.append(f"<tr><td><code>{name}</code></td><td>{what}</td>"
                       f"<td align=\"right\">{fmt(r.ns_min)}</td>"
                       f"<td align=\"right\">{fmt(r.ns_median)}</td>"
                       f"<td align=\"right\">{fmt(r.instructions, 0)}</td></tr>")
    out += ["</tbody>", "</table>"]
    return "\n".join(out)


def svg_chart(rows: list[Row]) -> str:
    """Two bar charts side by side, on log scales: median ns per call and instructions per call."""
    live = [r for r in rows if r.ns_median is not None and r.instructions is not None]
    label_w, panel_w, bar_h, gap, top = 110, 300, 18, 6, 34
    height = top + len(live) * (bar_h + gap) + 24
    width = label_w + 2 * panel_w + 40
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
             f'width="100%" style="max-width:{width}px" font-family="sans-serif" font-size="12" '
             'fill="currentColor" '
             'role="img" aria-label="Cost of one call of sum(2, 40), by path">']
    panels = [("median ns per call (log scale)", "ns_median", "#4e79a7", label_w),
              ("instructions per call (log scale)", "instructions", "#f28e2b",
               label_w + panel_w + 30)]
    for title, attr, colour, x0 in panels:
        values = [max(getattr(r, attr), 1.0) for r in live]
        lo = 10 ** math.floor(math.log10(min(values)))
        hi = 10 ** math.ceil(math.log10(max(values)))
        span = math.log10(hi) - math.log10(lo)

        def x(v, x0=x0, lo=lo, span=span):
            return x0 + (math.log10(max(v, lo)) - math.log10(lo)) / span * (panel_w - 50)
        parts.append(f'<text x="{x0}" y="14" font-weight="bold">{html.escape(title)}</text>')
        decade = lo
        while decade <= hi:
            gx = x(decade)
            parts.append(f'<line x1="{gx:.1f}" y1="{top - 8}" x2="{gx:.1f}" y2="{height - 20}" '
                         'stroke="#ccc" stroke-width="1"/>')
            parts.append(f'<text x="{gx:.1f}" y="{height - 6}" text-anchor="middle" '
                         f'fill-opacity="0.7">{decade:,g}</text>')
            decade *= 10
        for k, (r, v) in enumerate(zip(live, values)):
            y = top + k * (bar_h + gap)
            parts.append(f'<rect x="{x0}" y="{y}" width="{x(v) - x0:.1f}" height="{bar_h}" '
                         f'fill="{colour}"/>')
            parts.append(f'<text x="{x(v) + 4:.1f}" y="{y + bar_h - 5}">{v:,.0f}</text>')
    for k, r in enumerate(live):
        y = top + k * (bar_h + gap)
        parts.append(f'<text x="{label_w - 8}" y="{y + bar_h - 5}" text-anchor="end">'
                     f'{html.escape(r.name)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)  # no blank line: Markdown keeps an HTML block whole until one


def machine() -> dict:
    cpu = "?"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"python": sys.version.split()[0], "platform": platform.platform(), "cpu": cpu,
            "cpus": os.cpu_count(), "load_average": list(os.getloadavg())}


def report(rows: list[Row], mode: str) -> dict:
    return {"mode": mode, "machine": machine(),
            "rows": [{"name": r.name, "what": r.what, "missing": r.missing, "ns_min": r.ns_min,
                      "ns_median": r.ns_median, "instructions": r.instructions} for r in rows],
            "ratios": ratios(rows)}


# ---------------------------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dir", type=Path, default=Path(__file__).resolve().parent,
                    help="the folder holding the modules (default: this file's)")
    ap.add_argument("--quick", action="store_true", help="fewer rounds (for the book's page)")
    ap.add_argument("--facts", action="store_true", help="print the instruction-count facts")
    ap.add_argument("--where", nargs="+", metavar="NAME[@A,B]",
                    help="where a call's instructions go (of sum(A, B) rather than sum(2, 40))")
    ap.add_argument("--top", type=int, default=8, help="functions shown by --where")
    ap.add_argument("--html", action="store_true", help="print an HTML table and SVG chart")
    ap.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    ap.add_argument("--svg", type=Path, help="also write the chart to this SVG file")
    ap.add_argument("--kernel", nargs="+", metavar="NAME",
                    help="user and kernel time per call, and system calls (strace)")

    args = ap.parse_args(argv)
    folder = args.dir.resolve()
    for tool in ["strace"] if args.kernel else ["valgrind"]:
        if shutil.which(tool) is None:
            sys.exit(f"error: {tool} is not installed, and this measure needs it: install it "
                     f"(Debian/Ubuntu: apt-get install {tool}), or run scripts/setup.sh as root")
    n1, n2 = (200, 1200) if args.quick else (1000, 11000)

    if args.kernel:
        kernel(folder, args.kernel, 0.05 if args.quick else 0.5)
        return 0
    if args.facts:
        print_facts(folder, 200, 1200)
        return 0
    if args.where:
        where(folder, args.where, n1, n2, args.top)
        return 0

    rows = load_rows(folder)
    rounds, sample = (7, 0.002) if args.quick else (41, 0.01)
    time_rows(rows, rounds, sample)
    count_instructions(rows, folder, n1, n2)
    if args.html:
        print(html_table(rows))
        print(svg_chart(rows))
    else:
        print(text_table(rows))
        print()
        print(ratio_lines(rows))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report(rows, "quick" if args.quick else "full"), indent=1))
    if args.svg:
        args.svg.parent.mkdir(parents=True, exist_ok=True)
        args.svg.write_text(svg_chart(rows) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
