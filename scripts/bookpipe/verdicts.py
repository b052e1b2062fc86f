"""Verdicts: a command's run and output judged (its lines' exit statuses, its output against
its expectation, or an output not compared against its shape), the report a failure gets, and
what each verdict leaves: the page output (READY) of a passing output, the report and failure box
(FAILURES) of a failing one."""

from __future__ import annotations

from pathlib import Path

from .commands import Command, Line, Ratio, Table
from .config import FAILURES, PYVER, READY, ROOT, VERIFIED
from .steps import STREAM_MARKS, Step


def verdict(step: Step, cid: str, transcript: str,
            lines: list[tuple[Line, int | None, str]] = ()) -> str | None:
    """None when the command is fine, else a report naming the chapter, the command and a diff.
    `lines` are what run.run_command returns with the transcript (none for a cached one)."""
    import difflib
    cmd = step.command(cid)
    expected_file = step.expected[cid]
    problems = judge(step, cid, transcript, lines)
    diff = ""
    if cmd.compare:
        diff = transcript if not expected_file.exists() else "".join(difflib.unified_diff(
            expected_file.read_text().splitlines(keepends=True),
            transcript.splitlines(keepends=True),
            fromfile=f"expected ({expected_file.relative_to(ROOT)})", tofile="actual (this build)"))
    if not problems:
        return None
    hung = any(status is None for _, status, _ in lines)
    report = [f"FAILED: {step.label}, command `{cid}` (python3 is CPython {PYVER})"]
    report += [f"  - {p}" for p in problems]
    if diff:
        report += ["", diff.rstrip("\n")]
    if hung:
        report += ["", "A hang is not a changed output: do not bless it; what it printed before it "
                   "was killed is above."]
    elif cmd.compare and (diff or not expected_file.exists()):
        report += [""]
        if PYVER not in VERIFIED:
            report += [f"The book's expectations were verified under CPython {', '.join(VERIFIED)}; "
                       f"this is {PYVER}, compared with {expected_file.name}. If this output is "
                       f"right for {PYVER}, `just bless {step.nn}` records it as "
                       f"expected/{cid}@{PYVER}.txt."]
        else:
            report += [f"If the change is intended, update the expectation with "
                       f"`just bless {step.nn}` (under CPython {PYVER}, it writes "
                       f"{step.bless_path(cid).name} where this version's output differs)."]
    return "\n".join(report) + "\n"


def judge(step: Step, cid: str, transcript: str, lines: list[tuple[Line, int | None, str]] = (),
          compare: bool = True) -> list[str]:
    """What is wrong, in the order a reader fixes it: each line that hung or ended with the wrong
    status, then the output: not its expectation (with `compare`), or, for an output not
    compared, not of its shape. The one judge of fresh and of cached outputs."""
    cmd = step.command(cid)
    found = [p for line, status, output in lines
             for p in status_problems(step, cmd, line, status, output)]
    if not cmd.compare:
        found += shape_problems(cmd, transcript)
    elif compare:
        found += comparison_problems(step, cid, transcript)
    return found


def status_problems(step: Step, cmd: Command, line: Line, status: int | None, output: str
                    ) -> list[str]:
    """A line that hung (`status` None: it and every process it started were killed at its
    timeout), or that ended with another status than its `status` (0 unless it says; "nonzero"
    for any failure)."""
    want = line.status
    if status is None:
        return [f"`{line.run}` was still running after its timeout of "
                f"{cmd.timeout_of(line)} s, so it and every process it started were killed. "
                "Find out why it hangs (`just step " + step.nn + "` runs it alone); "
                "if it is only slow, raise its `timeout` in commands.toml"]
    if want == "nonzero":
        return [] if status != 0 else [f"`{line.run}` exited with status 0, expected a failure"]
    if status != want:
        return [f"`{line.run}` exited with status {status}, expected {want}"
                + (f"; its output:\n{output}" if line.hidden else "")]
    return []


def shape_problems(cmd: Command, text: str) -> list[str]:
    """A command whose output is shown but not compared (timings) must still have the shape the
    page describes: not empty, and every regex of its `shape` found in it."""
    import re
    body = text if cmd.html else "".join(
        l for l in unmark_streams(text).splitlines(keepends=True) if not l.startswith(cmd.prompt))
    if not body.strip():
        return ["its output is empty; the page describes what it shows"]
    if not cmd.shape:
        return ["it is not compared (`compare = false`) and has no `shape` to check its output "
                "against: add one to commands.toml"]
    problems = [f"its output lacks what the page describes: no match for the `shape` regex {rx!r}"
                for rx in cmd.shape if not re.search(rx, body, flags=re.MULTILINE)]
    if cmd.table:
        problems += table_problems(cmd.table, body)
    for rule in cmd.ratio:
        problems += ratio_problems(rule, body)
    return problems


def ratio_problems(rule: Ratio, body: str) -> list[str]:
    """A ratio shown agrees with the figures it is computed from, within the rounding shown.
    `shown`, `num` and `den` are regexes whose first group is the shown ratio, its numerator and
    its denominator. Each figure stands for any value that rounds to it (half a unit of its last
    digit either way), so the check fails only where no such values give the ratio shown."""
    import re
    found = {}
    for part in ("shown", "num", "den"):
        m = re.search(getattr(rule, part), body, flags=re.MULTILINE)
        if not m:
            return [f"its output lacks a ratio's {part}: no match for {getattr(rule, part)!r}"]
        found[part] = m.group(1)

    def bounds(figure: str) -> tuple[float, float]:
        value = float(figure.replace(",", ""))
        decimals = len(figure.partition(".")[2])
        half = 0.5 * 10 ** -decimals
        return value - half, value + half
    (r_lo, r_hi), (n_lo, n_hi), (d_lo, d_hi) = (bounds(found[p]) for p in ("shown", "num", "den"))
    if d_lo <= 0:
        return [f"its ratio {found['shown']} is computed from a denominator of {found['den']}"]
    lo, hi = n_lo / d_hi, n_hi / d_lo
    if r_hi < lo or r_lo > hi:
        n, d = float(found["num"].replace(",", "")), float(found["den"].replace(",", ""))
        return [f"its ratio {found['shown']} (matched by {rule.shown!r}) disagrees with the "
                f"figures it comes from: {found['num']} / {found['den']} = {n / d:.4g}"]
    return []


def table_problems(rules: Table, body: str) -> list[str]:
    """A shown table checked for sense, not only for digits in their places: its header holds
    exactly `columns`, in order; every cell of a `positive` column is a number above zero; and in
    each row, for each [A, B] of `not_below`, column A's number is not below column B's (a median
    is never below its minimum); [A, B, F] allows A down to F times B, for figures from which
    different baselines were subtracted."""
    import html
    import re
    heads = [html.unescape(h) for h in re.findall(r"<th>(.*?)</th>", body)]
    if heads != rules.columns:
        return [f"its table's columns are {heads}, not {rules.columns}: the page explains "
                "these, in this order"]
    problems = []
    for row in re.findall(r"<tr>(.*?)</tr>", body):
        cells = [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]
        if len(cells) != len(heads):
            continue  # a row that says why it has no figures (a missing toolchain)
        name = cells[0]

        def number(col: str) -> float | None:
            try:
                return float(cells[heads.index(col)].replace(",", ""))
            except ValueError:
                return None
        for col in rules.positive:
            v = number(col)
            if v is None or v <= 0:
                problems.append(f"its table's row {name!r} has {cells[heads.index(col)]!r} in "
                                f"{col!r}, which must be a number above zero")
        for a, b, *factor in rules.not_below:
            va, vb = number(a), number(b)
            f = factor[0] if factor else 1.0
            if va is not None and vb is not None and va < f * vb:
                below = f"below {b!r} {vb}" if f == 1.0 else f"below {f} x {b!r} {vb}"
                problems.append(f"its table's row {name!r} has {a!r} {va} {below}")
    return problems


def comparison_problems(step: Step, cid: str, transcript: str) -> list[str]:
    """A compared command's output is its expectation for this CPython, byte for byte and stream
    for stream; where a diff would show the same lines, the problem says what differs."""
    if not step.command(cid).compare:
        return []
    expected_file = step.expected[cid]
    if not expected_file.exists():
        return [f"no expectation {expected_file.relative_to(ROOT)}: "
                f"review the output below, then run `just bless {step.nn}`"]
    expected = expected_file.read_text()
    if expected == transcript:
        return []
    return ["its output differs from the expectation" + invisible_difference(expected, transcript)]


def invisible_difference(expected: str, actual: str) -> str:
    """What differs, where a diff shows lines that look the same."""
    if expected != actual and unmark_streams(expected) == unmark_streams(actual):
        return (": only the streams (lines marked `2| ` were written to stderr, `&| ` to both, the "
                "others to stdout): the page shows the same text, but an output moved from one "
                "stream to the other")
    if expected.rstrip("\n") == actual.rstrip("\n"):
        return (": only the final newline (the expectation ends with "
                f"{len(expected) - len(expected.rstrip(chr(10)))} newline(s), the output with "
                f"{len(actual) - len(actual.rstrip(chr(10)))})")
    if expected.split() == actual.split():
        return ": only white space (trailing spaces, tabs or blank lines)"
    if expected.replace("\r", "") == actual.replace("\r", ""):
        return ": only carriage returns"
    return ""


def unmark_streams(transcript: str) -> str:
    """The transcript as the page shows it: the lines without their stream marks."""
    return "".join(l[3:] if l.startswith(STREAM_MARKS) else l
                   for l in transcript.splitlines(keepends=True))


def fail(step: Step, cid: str, report: str) -> None:
    """Record a failure: its report for `check` and `summary`, and a box on the page where the
    output would be (under `mdbook serve` nothing else would show it)."""
    FAILURES.mkdir(parents=True, exist_ok=True)
    (FAILURES / f"{step.nn}-{cid}.txt").write_text(report)
    READY.mkdir(parents=True, exist_ok=True)
    (READY / f"{step.nn}-{cid}.md").write_text(failure_box(step, cid, report))


def unbuilt_report(step: Step, cid: str, why: str) -> str:
    return (f"FAILED: {step.label}, command `{cid}` (python3 is CPython {PYVER})\n"
            f"  - the step could not be built, so nothing ran: {why}\n")


def markdown(transcript: str, html: bool) -> str:
    if html:
        return transcript
    transcript = unmark_streams(transcript)  # the page shows the text, not its streams
    fence = "```"
    while fence in transcript:
        fence += "`"
    return f"{fence}console\n{transcript}{fence}\n"


def spoken_list(names: list[str]) -> str:
    """["3.11", "3.12", "3.13"] as "3.11, 3.12 and 3.13"."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def version_note(step: Step, cid: str) -> str:
    """Under an output whose expectation differs between versions: which versions print what the
    page shows, and each other version's output (its own expectation, which the version matrix of
    `just test` checks), folded under a line that names every version it covers."""
    coverage, expected = step.coverage(cid), step.expected_path(cid)
    if len(coverage) < 2:
        return ""
    same = [v for v in coverage.get(expected, []) if v != PYVER]
    others = {path: names for path, names in coverage.items() if path != expected and names}
    also = f" (CPython {spoken_list(same)} print{'s' if len(same) == 1 else ''} the same)" \
        if same else ""
    note = (f"\n<p class=\"python-version\"><small>Printed by CPython {PYVER}, the book's "
            f"<code>python3</code>{also}. Each version's output is checked against its own "
            "expectation; the others follow.</small></p>\n")
    for path, names in others.items():
        note += (f"\n<details class=\"python-version\"><summary>What CPython {spoken_list(names)} "
                 f"print{'s' if len(names) == 1 else ''}</summary>\n\n"
                 f"{markdown(path.read_text(), False)}\n</details>\n")
    return note


def failure_box(step: Step, cid: str, report: str) -> str:
    """A failed command's report as an HTML block for the page. It has no blank line (one would
    end the HTML block in Markdown); an empty line of the report is written as a no-break space."""
    import html
    body = "\n".join(html.escape(line) or "&#160;" for line in report.rstrip("\n").split("\n"))
    return (f'<div class="book-failure" style="border: 3px solid #c62828; padding: 0 1em; '
            f'margin: 1em 0">\n<p><strong>This output failed its check</strong>: chapter {step.nn}, '
            f'command <code>{html.escape(cid)}</code>. <code>just build</code> fails until it is '
            f'fixed; the report:</p>\n<pre style="white-space: pre-wrap">{body}</pre>\n</div>\n')


def write_ready(step: Step, cid: str, transcript: str) -> str:
    """Writes (and returns) the page output of a command whose result is checked and valid now.

    `prepare` writes these for every command whose cached result matches the freshly built and
    staged sources, and hands `just build` a token (READY_TOKEN) with which the shell wrapper
    prints them without starting Python, during the mdbook run that follows. Without the token
    (under `mdbook serve`, after an edit), every page output goes through cmd_show, which checks
    the sources' contents, rebuilds, reruns and rechecks as needed."""
    cmd = step.command(cid)
    text = markdown(transcript, cmd.html) + ("" if cmd.html else version_note(step, cid))
    READY.mkdir(parents=True, exist_ok=True)
    (READY / f"{step.nn}-{cid}.md").write_text(text)
    return text


def failure_reports() -> list[Path]:
    return sorted(FAILURES.glob("*.txt")) if FAILURES.exists() else []


def report_problems() -> list[str]:
    """The report of each output that failed its check (it failed, hung, drifted, has the wrong
    shape, or its step could not be built): `prepare` wrote them, in FAILURES."""
    return [r.read_text() for r in failure_reports()]
