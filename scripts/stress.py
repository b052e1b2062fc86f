"""`just stress`: run the suites whose children can crash many times, under every CPython found,
and report each crash with its backtraces (tests/support/crashreport.py writes them).

A crash seen once needs many runs to be seen again. Each round runs, under each CPython found
(tests/support's `interpreter()`: 3.10 to 3.15, on PATH or under pyenv):

- tests/test_ch04_threads.py, with the tests parametrized by version narrowed to that version
  (the others run under it anyway: pytest runs on it);
- tests/test_ch06_reliability.py's hostile-input and leak tests of chapter 4's module (CH06_ONLY;
  `--module` names another, `--module all` runs every module).

pytest runs on a CPython of each version, in target/stress/3.N/venv, with the pinned pytest and
hypothesis of scripts/requirements.txt (made on first use; the book's own .venv for its version).
It goes on until the time is up (`--minutes`, default 30) or `--rounds` rounds are done, then prints
per CPython how many times each suite ran, how many child processes those runs started, and every
failure: a crash (with the faulting thread and gdb's backtraces), a hang, or another failure. The
log of every failed run is kept under target/stress/logs. Not part of `just test`: it takes as long
as you give it. Exit status 1 if any run failed.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from support import ABI3_VERSIONS, ROOT, interpreter  # noqa: E402

WORK = ROOT / "target" / "stress"
SUITE_TIMEOUT = 1800  # seconds for one run of one suite


def pins() -> list[str]:
    wanted = ("pytest==", "hypothesis==")
    lines = (ROOT / "scripts" / "requirements.txt").read_text().splitlines()
    return [line.strip() for line in lines if line.strip().startswith(wanted)]


def venv_python(version: str, python: str) -> str:
    """A Python of that version with pytest and hypothesis: .venv's, or one made for the stress."""
    if python == sys.executable:
        return python
    venv = WORK / version / "venv"
    py = venv / "bin" / "python"
    if not py.exists():
        print(f"stress: making {venv} with {' '.join(pins())}", flush=True)
        subprocess.run([python, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "--quiet", *pins()], check=True)
    return str(py)


def suites(version: str, module: str) -> dict[str, tuple[list[str], dict]]:
    others = [v for v in ABI3_VERSIONS if v != version]
    narrow = " and ".join(f"not [{v}]" for v in others)
    reliability_env = {} if module == "all" else {"CH06_ONLY": module}
    return {
        "threads": (["tests/test_ch04_threads.py", "-k", narrow], {}),
        "reliability": (["tests/test_ch06_reliability.py", "-k",
                         "test_hostile_input or test_no_leaks"], reliability_env),
    }


def classify(output: str) -> str:
    if "CRASHED: killed by" in output or "crashed: killed by" in output:
        return "crash"
    if re.search(r"hung( for more than| \(killed after)", output):
        return "hang"
    return "failure"


def crash_sections(output: str) -> str:
    """The crash reports in a pytest log: from each `CRASHED:` to the end of its gdb section."""
    found = []
    for m in re.finditer(r"(?s)CRASHED: killed by .*?(?=\n(?:E\s+)?== the child's stderr|\Z)",
                         output):
        found.append(m.group(0))
    return "\n\n".join(found) or output[-6000:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--rounds", type=int, default=0, help="stop after this many (0: no limit)")
    parser.add_argument("--module", default="04/foo.abi3.so",
                        help="the reliability suite's module, by label, or `all`")
    parser.add_argument("--suite", choices=["threads", "reliability"], action="append",
                        help="run only this suite (may be given twice; default: both)")
    args = parser.parse_args()

    found = {v: interpreter(v) for v in ABI3_VERSIONS}
    for v, p in found.items():
        print(f"stress: CPython {v}: {p or 'not found, left out'}", flush=True)
    pythons = {v: venv_python(v, p) for v, p in found.items() if p}
    if not pythons:
        print("stress: no CPython found", file=sys.stderr)
        return 1
    (WORK / "logs").mkdir(parents=True, exist_ok=True)
    runs: dict[tuple[str, str], int] = {}
    children: dict[tuple[str, str], int] = {}
    failures: list[tuple[str, str, int, str, Path]] = []
    deadline = time.monotonic() + args.minutes * 60
    rounds = 0
    while time.monotonic() < deadline and (not args.rounds or rounds < args.rounds):
        rounds += 1
        for version, python in pythons.items():
            for name, (pytest_args, extra_env) in suites(version, args.module).items():
                if args.suite and name not in args.suite:
                    continue
                if time.monotonic() >= deadline:
                    break
                tally = WORK / "logs" / f"tally-{os.getpid()}"
                tally.unlink(missing_ok=True)
                env = dict(os.environ, **extra_env, CRASHREPORT_TALLY=str(tally))
                started = time.monotonic()
                try:
                    proc = subprocess.run([python, "-m", "pytest", "-p", "no:cacheprovider", "-q",
                                           *pytest_args], cwd=ROOT, env=env, text=True,
                                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                          timeout=SUITE_TIMEOUT)
                    output, rc = proc.stdout, proc.returncode
                except subprocess.TimeoutExpired as e:
                    output = (e.stdout or b"").decode(errors="replace") if isinstance(
                        e.stdout, bytes) else (e.stdout or "")
                    output += f"\nthe whole suite hung for more than {SUITE_TIMEOUT} s"
                    rc = -1
                key = (version, name)
                runs[key] = runs.get(key, 0) + 1
                started_children = len(tally.read_text().splitlines()) if tally.exists() else 0
                tally.unlink(missing_ok=True)
                children[key] = children.get(key, 0) + started_children
                verdict = "clean" if rc == 0 else classify(output)
                print(f"stress: round {rounds}, CPython {version}, {name}: {verdict} "
                      f"({started_children} children, {time.monotonic() - started:.0f} s)",
                      flush=True)
                if rc != 0:
                    log = WORK / "logs" / f"{version}-{name}-round{rounds}-{os.getpid()}.log"
                    log.write_text(output, encoding="utf-8")
                    failures.append((version, name, rounds, verdict, log))
                    print(crash_sections(output) if verdict == "crash" else output[-4000:],
                          flush=True)

    print("\nstress: runs per CPython (children: processes the runs started)")
    for version in pythons:
        cells = [f"{name} {runs.get((version, name), 0)} runs, "
                 f"{children.get((version, name), 0)} children" for name in ("threads",
                                                                              "reliability")
                 if not args.suite or name in args.suite]
        bad = [f for f in failures if f[0] == version]
        print(f"  CPython {version}: {'; '.join(cells)}; failed: {len(bad)}")
    for version, name, rnd, verdict, log in failures:
        print(f"  FAILED ({verdict}): CPython {version}, {name}, round {rnd}: {log}")
    if not failures:
        print("  no crash, no hang, no failure")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
