"""The book's checked pipeline: build the steps, run their commands, compare with expectations.

Every chapter's commands are defined once, in `steps/NN-*/commands.toml`. The pages run them through
mdbook-cmdrun (`<!-- cmdrun ../scripts/book show NN ID -->`) and `just step NN` runs the very same
definitions. Each shown output is compared with `steps/NN-*/expected/ID.txt`.

Subcommands (see `scripts/book help`):
  prepare          cargo build the workspace once, then stage each step's artifacts, and write
                   the source archive into book/ (mdbook copies it beside the pages)
  show NN ID       print one command's checked transcript as Markdown (used by the pages)
  step NN          run all of a chapter's commands, print each with its output, compare
  bless [NN ...]   run commands and rewrite their expectations, then show the diff
  check            after `mdbook build`: fail on any failure report, any check of the pages'
                   Markdown, of the steps' definitions, of the by-hand scripts, or of the HTML
  summary          one summary of the failures `prepare` found (for `just serve`; never fails)
  list             list the steps and their commands
  guide KIND       for the introduction, from the steps' definitions: the `rewrites` of the
                   outputs, the outputs shown but not compared (`uncompared`), and those with an
                   expectation per CPython version (`versions`)
  sources DIR      write the source archive of the repository's tracked files into DIR
                   (`prepare` writes it into book/)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from . import by_hand, definitions, markdown, rendered
from .build import ensure_staged, sources_digest, stage
from .cache import checked
from .config import (CHECKED, FAILURES, MDBOOK_LOG, PYVER, READY, READY_TOKEN, ROOT, STAGE, STEPS,
                     WORK, Fail)
from .run import run_command
from .sources import write_served
from .steps import all_steps, find_step
from .verdicts import fail, failure_reports, judge, report_problems, unbuilt_report, verdict


def cmd_show(nn: str, cid: str) -> int:
    """Used by the pages: print one command's checked page output (see cache.checked).

    Inside a run that `prepare` started (BOOK_READY_TOKEN, as `just build` and `just serve`
    pass it), the shell wrapper prints READY files itself while no source changed since; here
    once one did (an edit while `mdbook serve` runs), the whole book is prepared again, once, and
    the other outputs are quick again. Anywhere else (a plain `mdbook build` or `mdbook serve`)
    each output is checked on its own: its step staged from the sources' contents, then
    cached or run."""
    step = find_step(nn)
    step.command(cid)
    if ready_run():
        refresh()
    else:
        manifest = ensure_staged(step)
        report = checked(step, cid, manifest)
        if report:
            sys.stderr.write(report)
    sys.stdout.write((READY / f"{step.nn}-{cid}.md").read_text())
    return 0


def ready_run() -> bool:
    """True inside the mdbook run of a `prepare` (its token in BOOK_READY_TOKEN)."""
    import os
    token = os.environ.get("BOOK_READY_TOKEN")
    try:
        return bool(token) and READY_TOKEN.read_text() == token
    except OSError:
        return False


def sources_changed_since(path: Path) -> bool:
    """Whether any file the outputs depend on (under steps/, and the pipeline itself) changed
    after `path` was written. By change time, which no editor, copy or `touch -d` can set back:
    the same test the shell wrapper makes with `find -cnewer`."""
    import os
    since = path.stat().st_mtime_ns
    for top in (STEPS, Path(__file__).parent):
        for dirpath, dirnames, filenames in os.walk(top):
            for name in dirnames + filenames:
                if os.lstat(os.path.join(dirpath, name)).st_ctime_ns > since:
                    return True
    return False


def refresh() -> None:
    """Prepare the whole book again, keeping the token, if a source changed since the last time
    (one process does it; the others wait for it, then find everything ready)."""
    import fcntl
    READY.mkdir(parents=True, exist_ok=True)
    with open(WORK / "prepare.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if sources_changed_since(READY_TOKEN):
            token = READY_TOKEN.read_text()
            prepare_all()
            write_served()
            READY_TOKEN.write_text(token)


def cmd_step(nn: str) -> int:
    step = find_step(nn)
    stage([step])
    reports = []
    print(f"# {step.label}, with python3 = CPython {PYVER}\n")
    for cid, cmd in step.commands.items():
        transcript, lines = run_command(step, cid)
        note = "" if cmd.compare else "   (shown, not compared: machine-dependent)"
        print(f"## {cid}{note}\n{transcript}")
        report = verdict(step, cid, transcript, lines)
        if report:
            reports.append(report)
    if reports:
        sys.stderr.write("\n".join(reports))
        print(f"chapter {step.nn}: {len(reports)} of {len(step.commands)} commands FAILED")
        return 1
    print(f"chapter {step.nn}: all {len(step.commands)} commands ran and match their expectations")
    return 0


def cmd_bless(nns: list[str]) -> int:
    import shutil
    import subprocess
    steps = [find_step(n) for n in nns] if nns else all_steps()
    stage(steps)
    failed = []
    for step in steps:
        for cid, cmd in step.commands.items():
            transcript, lines = run_command(step, cid)
            problems = judge(step, cid, transcript, lines, compare=False)
            if problems:
                failed.append(f"{step.label}, `{cid}`: " + "; ".join(problems))
            if cmd.compare:
                step.bless(cid, transcript)
    # New expectation files show up in the diff only once git knows of them (as intent to add).
    expected = [str(s.folder / "expected") for s in steps if (s.folder / "expected").exists()]
    if shutil.which("git") is None:
        print("(no git on PATH: the expectations are written, but their diff is not shown)")
    else:
        subprocess.run(["git", "add", "--intent-to-add", "--", *expected], cwd=ROOT, check=False)
        subprocess.run(["git", "--no-pager", "diff", "--stat", "--", *expected], cwd=ROOT)
        subprocess.run(["git", "--no-pager", "diff", "--", *expected], cwd=ROOT)
    if failed:
        print("\nThese commands did not run as defined; their expectations were written anyway, "
              "fix them before committing:\n  " + "\n  ".join(failed), file=sys.stderr)
        return 1
    return 0


def cmd_prepare() -> int:
    """Build and stage every step, give every command its checked page output (cached or run),
    and print the token that lets the shell wrapper print them during the mdbook run that
    follows. Failures are left for `check` (and `summary`) to report: a failing command gets a
    failure box on its page, so that `just serve` serves the book whatever fails."""
    import secrets
    READY_TOKEN.unlink(missing_ok=True)
    prepare_all()
    write_served()
    token = secrets.token_hex(16)
    READY_TOKEN.write_text(token)
    print(token)
    return 0


def prepare_all() -> None:
    import shutil
    shutil.rmtree(FAILURES, ignore_errors=True)
    for old in READY.glob("*.md") if READY.exists() else []:
        old.unlink()
    CHECKED.unlink(missing_ok=True)
    MDBOOK_LOG.unlink(missing_ok=True)
    steps = all_steps()
    unbuilt = stage(steps, keep_going=True)
    for step in steps:
        if step.nn in unbuilt:
            for cid in step.commands:
                fail(step, cid, unbuilt_report(step, cid, unbuilt[step.nn]))
            continue
        manifest = json.loads((STAGE / step.nn / ".manifest.json").read_text())
        for cid in step.commands:
            checked(step, cid, manifest)
    READY.mkdir(parents=True, exist_ok=True)


def cmd_check() -> int:
    """After `mdbook build`. mdbook-cmdrun never fails a build: a failing command only leaves
    `**cmdrun error**` in the page, and a missing preprocessor leaves the raw marker; mdbook itself
    only logs a broken include. Catch all of these, print the runner's reports, check that pages
    and definitions agree, then check the rendered pages as a browser gets them.

    Each check is a function named `*_problems` that returns what it finds, one message each
    (tests/test_drift.py holds a fault for every one of them and fails on a check without one);
    this function and the check_* functions only gather them."""
    problems = report_problems()
    problems += rendered.mdbook_log_problems() + rendered.rendered_marker_problems()
    problems += markdown.check_markdown() + definitions.check_definitions()
    problems += by_hand.by_hand_problems()
    # A failing output's box is no listing: the rendered pages are checked once every output is.
    if rendered.html_pages() and not failure_reports():
        problems += rendered.check_pages()
    if problems:
        sys.stderr.write("\n".join(p.rstrip("\n") for p in problems) + "\n\n")
        sys.stderr.write(f"book check FAILED: {len(problems)} problem(s) (python3 is CPython {PYVER})\n")
        return 1
    n = sum(len(s.commands) for s in all_steps())
    CHECKED.write_text(json.dumps({"python": PYVER, "version": sys.version.split()[0],
                                   "sources": sources_digest()}))
    print(f"book check: {len(rendered.html_pages())} pages, {n} commands, every output matches its "
          f"expectation under CPython {PYVER}, and every page renders its listings and outputs "
          "intact")
    return 0


def cmd_summary() -> int:
    """For `just serve`: one summary of what failed and why (each failure's box is on its page),
    and never a failing status: the book is served whatever fails."""
    import re
    reports = sorted(FAILURES.glob("*.txt")) if FAILURES.exists() else []
    if not reports:
        return 0
    lines = [f"book: {len(reports)} output(s) failed their check; each page shows the failure "
             "where the output would be, and `just build` fails until they are fixed:"]
    missing = set()
    for r in reports:
        text = r.read_text()
        head, _, rest = text.partition("\n")
        what = re.sub(r"^FAILED: chapter (\d+) \([^)]*\), command `([^`]+)`.*", r"chapter \1 `\2`", head)
        why = [l.strip()[2:] for l in rest.splitlines() if l.startswith("  - ")]
        lines.append(f"  {what}: {'; '.join(w.split(chr(10))[0][:120] for w in why)}")
        missing |= set(re.findall(r"No such file or directory: '([^'/]+)'", text))
        missing |= set(re.findall(r"(?m)(?:bash: )?(?:line \d+: )?([\w.+-]+): command not found", text))
    if missing:
        lines.append(f"  missing on this machine: {', '.join(sorted(missing))} (see the README's "
                     "list of what you need; scripts/setup.sh installs what it can)")
    sys.stderr.write("\n".join(lines) + "\n")
    return 0


def cmd_list() -> int:
    for step in all_steps():
        print(f"{step.nn}  {step.chapter}  (steps/{step.folder.name})")
        for cid, cmd in step.commands.items():
            first = cmd.run[0].run
            print(f"      {cid:<22} $ {first}")
    return 0


def main(argv: list[str]) -> int:
    try:
        match argv:
            case ["prepare"]:
                return cmd_prepare()
            case ["show", nn, cid]:
                return cmd_show(nn, cid)
            case ["step", nn]:
                return cmd_step(nn)
            case ["bless", *nns]:
                return cmd_bless(nns)
            case ["check"]:
                return cmd_check()
            case ["summary"]:
                return cmd_summary()
            case ["list"]:
                return cmd_list()
            case ["guide", kind]:
                from .guide import guide
                sys.stdout.write(guide(kind))
                return 0
            case ["sources", folder]:
                from .sources import write_archive
                print(write_archive(Path(folder)))
                return 0
            case _:
                print(__doc__)
                return 0 if argv in ([], ["help"]) else 2
    except Fail as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
