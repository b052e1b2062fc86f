"""The book's checked pipeline: build the steps, run their commands, compare with expectations.

Every chapter's commands are defined once, in `steps/NN-*/commands.toml`. The pages run them through
mdbook-cmdrun (`<!-- cmdrun ../scripts/book show NN ID -->`) and `just step NN` runs the very same
definitions. Each shown output is compared with `steps/NN-*/expected/ID.txt`.

Subcommands (see `scripts/book help`):
  prepare          cargo build the workspace once, then stage each step's artifacts
  show NN ID       print one command's checked transcript as Markdown (used by the pages)
  step NN          run all of a chapter's commands, print each with its output, compare
  bless [NN ...]   run commands and rewrite their expectations, then show the diff
  check            after `mdbook build`: fail on any failure report or unexpanded marker
  list             list the steps and their commands
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tomllib
from pathlib import Path

# The pages start this script once per command (47 times a build), and a cached result needs only
# the imports above: the modules for running commands, diffing and building are imported where used.

ROOT = Path(__file__).resolve().parent.parent
STEPS = ROOT / "steps"
BOOK_SRC = ROOT / "book"
TARGET = ROOT / "target"
WORK = TARGET / "book-work"  # staged artifacts, per-command work folders, cache, failure reports
STAGE = WORK / "stage"
RUNS = WORK / "run"
# Passing results, keyed on everything they depend on; the drift tests share it with their copies.
CACHE = Path(os.environ.get("BOOK_CACHE_DIR", WORK / "cache"))
FAILURES = WORK / "failures"
# Each command's page output, valid while nothing under steps/ (nor this script) is newer: the shell
# wrapper scripts/book prints it without starting Python. See write_ready().
READY = WORK / "ready"
HTML = TARGET / "book"
VENV_BIN = ROOT / ".venv" / "bin"

DEFAULT_TIMEOUT = 30  # seconds, per command line
MARKER = r"<!--\s*cmdrun\s+\.\./scripts/book\s+show\s+(\S+)\s+(\S+)\s*-->"


class Fail(Exception):
    """A problem the user must see; the message says what to do."""


# ---------------------------------------------------------------------------------------------
# Steps and their command definitions


class Step:
    def __init__(self, folder: Path):
        self.folder = folder
        self.nn = folder.name[:2]
        spec = tomllib.loads((folder / "commands.toml").read_text())
        self.chapter = spec.get("chapter", folder.name)
        self.stage_spec: dict[str, str] = spec.get("stage", {})
        # The cargo profile that builds the artifacts the step stages (default: the workspace's
        # dev build); e.g. chapter 7 measures release builds.
        self.profile: str | None = spec.get("profile")
        self.commands: dict[str, dict] = {}
        for cmd in spec.get("command", []):
            if cmd["id"] in self.commands:
                raise Fail(f"{folder / 'commands.toml'}: command id {cmd['id']!r} is defined twice")
            self.commands[cmd["id"]] = cmd
        self.package = tomllib.loads((folder / "Cargo.toml").read_text())["package"]["name"] \
            if (folder / "Cargo.toml").exists() else None

    @property
    def label(self) -> str:
        return f"chapter {self.nn} ({self.chapter}, steps/{self.folder.name})"

    def expected_path(self, cid: str) -> Path:
        return self.folder / "expected" / f"{cid}.txt"

    def command(self, cid: str) -> dict:
        try:
            return self.commands[cid]
        except KeyError:
            raise Fail(f"{self.label}: no command {cid!r} in {self.folder / 'commands.toml'} "
                       f"(it has: {', '.join(self.commands) or 'none'})") from None


def all_steps() -> list[Step]:
    return [Step(d) for d in sorted(STEPS.glob("[0-9][0-9]-*")) if (d / "commands.toml").exists()]


def find_step(nn: str) -> Step:
    nn = nn.zfill(2)
    for folder in sorted(STEPS.glob(f"{nn}-*")):
        if (folder / "commands.toml").exists():
            return Step(folder)
    known = ", ".join(s.nn for s in all_steps())
    raise Fail(f"there is no step {nn} (steps with commands: {known})")


# ---------------------------------------------------------------------------------------------
# Building and staging


def python_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("PYO3_PYTHON", str(VENV_BIN / "python"))
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def cargo_build(profile: str | None = None, packages: list[str] | None = None) -> tuple[dict, dict]:
    """One `cargo build` of the whole workspace (or of `packages` in `profile`); returns
    (artifacts, out_dirs) by package name."""
    import subprocess
    which = ["--profile", profile, *(f"--package={p}" for p in packages or [])] if profile \
        else ["--workspace"]
    proc = subprocess.Popen(
        ["cargo", "build", *which, "--message-format=json-render-diagnostics"],
        cwd=STEPS, env=python_env(), stdout=subprocess.PIPE, text=True)
    artifacts: dict[str, dict[str, str]] = {}
    out_dirs: dict[str, str] = {}
    assert proc.stdout is not None
    for line in proc.stdout:
        msg = json.loads(line)
        reason = msg.get("reason")
        if reason == "compiler-artifact":
            pkg = package_name(msg["package_id"])
            for kind, filename in zip(msg["target"]["crate_types"], msg["filenames"]):
                artifacts.setdefault(pkg, {})[kind] = filename
            if msg.get("executable"):
                artifacts.setdefault(pkg, {})["bin:" + msg["target"]["name"]] = msg["executable"]
        elif reason == "build-script-executed":
            out_dirs[package_name(msg["package_id"])] = msg["out_dir"]
    if proc.wait() != 0:
        raise Fail("cargo build failed (its messages are above)")
    return artifacts, out_dirs


def package_name(package_id: str) -> str:
    # "path+file:///…/01-shared-library#step01-shared-library@0.1.0", or "…/name#0.1.0"
    # when the folder and the package share a name, or the old "name 0.1.0 (path+file://…)".
    if " " in package_id:
        return package_id.split(" ")[0]
    base, _, frag = package_id.partition("#")
    if "@" in frag:
        return frag.split("@")[0]
    return base.rstrip("/").rsplit("/", 1)[-1]


def stage(steps: list[Step]) -> None:
    """Copy what each step's commands need into target/book-work/stage/NN, with a manifest of hashes."""
    import shutil
    artifacts, out_dirs = cargo_build()
    for step in steps:
        built = (artifacts, out_dirs)
        if step.profile:
            built = cargo_build(step.profile, built_packages(step))
        dest = STAGE / step.nn
        tmp = STAGE / f"{step.nn}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        manifest = {}
        for name, source in sorted(step.stage_spec.items()):
            # "?SOURCE": staged only if the build made it (e.g. a module that needs a toolchain
            # the machine may lack); the commands must cope with its absence.
            optional = source.startswith("?")
            src = resolve_source(step, source.removeprefix("?"), *built, optional)
            if src is None:
                continue
            (tmp / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, tmp / name)
            manifest[name] = sha256_file(tmp / name)
        (tmp / ".manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True))
        shutil.rmtree(dest, ignore_errors=True)
        tmp.rename(dest)
        (STAGE / f"{step.nn}.stamp").write_text(str(newest_source_mtime(step)))


def built_packages(step: Step) -> list[str]:
    """The packages whose artifacts a step stages (every source but `src:`)."""
    packages = set()
    for source in step.stage_spec.values():
        kind, _, _ = source.removeprefix("?").partition(":")
        if kind != "src":
            packages.add(kind.partition("@")[2] or step.package)
    return sorted(packages)


def resolve_source(step: Step, source: str, artifacts: dict, out_dirs: dict,
                   optional: bool = False) -> Path | None:
    """`cdylib`, `staticlib`, `bin:NAME` (of this step's package or `KIND@package`), `out:PATH`
    (a file in the build script's OUT_DIR, `out@package:PATH` for another package), `src:PATH`
    (a file of the step folder)."""
    kind, _, rest = source.partition(":")
    kind, _, pkg = kind.partition("@")
    pkg = pkg or step.package
    where = f"{step.folder / 'commands.toml'}: stage source {source!r}"
    if kind == "src":
        path = step.folder / rest
    elif kind == "out":
        if pkg not in out_dirs:
            raise Fail(f"{where}: package {pkg} has no build script output")
        path = Path(out_dirs[pkg]) / rest
    else:
        key = f"{kind}:{rest}" if rest else kind
        try:
            path = Path(artifacts[pkg][key])
        except KeyError:
            raise Fail(f"{where}: cargo built no {key} for package {pkg}") from None
    if not path.is_file():
        if optional:
            return None
        raise Fail(f"{where}: {path} does not exist")
    return path


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def newest_source_mtime(step: Step) -> float:
    newest = max((STEPS / "Cargo.toml").stat().st_mtime, (STEPS / "Cargo.lock").stat().st_mtime
                 if (STEPS / "Cargo.lock").exists() else 0.0)
    for dirpath, dirnames, filenames in os.walk(step.folder):
        dirnames[:] = [d for d in dirnames if d not in ("expected", "__pycache__", ".pytest_cache")]
        for f in filenames:
            newest = max(newest, os.stat(os.path.join(dirpath, f)).st_mtime)
    return newest


def ensure_staged(step: Step) -> dict[str, str]:
    """The manifest of the step's staged files, rebuilding first when its sources changed.

    `just build` stages everything before mdbook runs; this catches edits made while
    `mdbook serve` is running (book.toml watches steps/ too)."""
    stamp = STAGE / f"{step.nn}.stamp"
    if not stamp.exists() or float(stamp.read_text()) < newest_source_mtime(step):
        stage([step])
    return json.loads((STAGE / step.nn / ".manifest.json").read_text())


# ---------------------------------------------------------------------------------------------
# Running commands


def lines_of(cmd: dict) -> list[dict]:
    out = []
    for item in cmd["run"]:
        out.append({"run": item} if isinstance(item, str) else item)
    return out


def normalise(text: str, workdir: Path, cmd: dict) -> str:
    import re
    text = text.replace(str(workdir), ".").replace(str(ROOT), "<book>")
    text = re.sub(r"0x[0-9a-fA-F]{6,}", "0x<address>", text)
    for pattern, replacement in cmd.get("normalize", []):
        text = re.sub(pattern, replacement, text, flags=re.MULTILINE)
    return text


def run_command(step: Step, cid: str) -> tuple[str, list[str]]:
    """Run one command definition in a fresh copy of the step's staged files.

    Returns the normalised transcript (`$ line` then its output, for each line) and the problems
    found (a line exiting with the wrong status, a timeout)."""
    import shutil
    import signal
    import subprocess
    cmd = step.command(cid)
    workdir = RUNS / step.nn / cid
    shutil.rmtree(workdir, ignore_errors=True)
    shutil.copytree(STAGE / step.nn, workdir, ignore=shutil.ignore_patterns(".manifest.json"))
    env = python_env()
    env.update({"LC_ALL": "C.UTF-8", "TERM": "dumb", "NO_COLOR": "1", "RUST_BACKTRACE": "0"})
    env.pop("PYTHONPATH", None)
    env.update({k: str(v) for k, v in cmd.get("env", {}).items()})
    transcript, problems = [], []
    for line in lines_of(cmd):
        timeout = line.get("timeout", cmd.get("timeout", DEFAULT_TIMEOUT))
        want = line.get("status", 0)
        proc = subprocess.Popen(["bash", "-c", line["run"]], cwd=workdir / cmd.get("cwd", "."), env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, start_new_session=True)
        try:
            raw, _ = proc.communicate(timeout=timeout)
            status = proc.returncode
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raw, _ = proc.communicate()
            status = None
            problems.append(f"`{line['run']}` ran past its timeout of {timeout} s and was killed")
        output = normalise(raw.decode("utf-8", "replace"), workdir, cmd)
        if output and not output.endswith("\n"):
            output += "\n"
        if cmd.get("html"):  # raw HTML for the page (a chart, a table): its output only
            transcript.append(output)
        elif not line.get("hidden"):
            transcript.append(f"$ {line['run']}\n{output}")
        if status is not None and want != "nonzero" and status != want:
            problems.append(f"`{line['run']}` exited with status {status}, expected {want}"
                            + (f"; its output:\n{output}" if line.get("hidden") else ""))
        if status is not None and want == "nonzero" and status == 0:
            problems.append(f"`{line['run']}` exited with status 0, expected a failure")
    return "".join(transcript), problems


def compared(cmd: dict) -> bool:
    return cmd.get("compare", True)


def verdict(step: Step, cid: str, transcript: str, problems: list[str]) -> str | None:
    """None when the command is fine, else a report naming the chapter, the command and a diff."""
    import difflib
    cmd = step.command(cid)
    expected_file = step.expected_path(cid)
    if compared(cmd):
        if not expected_file.exists():
            problems = problems + [f"no expectation {expected_file.relative_to(ROOT)}: "
                                   f"review the output below, then run `just bless {step.nn}`"]
            diff = transcript
        else:
            expected = expected_file.read_text()
            diff = "".join(difflib.unified_diff(
                expected.splitlines(keepends=True), transcript.splitlines(keepends=True),
                fromfile=f"expected ({expected_file.relative_to(ROOT)})",
                tofile="actual (this build)"))
            if diff:
                problems = problems + ["its output differs from the expectation"]
    else:
        diff = ""
    if not problems:
        return None
    lines = [f"FAILED: {step.label}, command `{cid}`"]
    lines += [f"  - {p}" for p in problems]
    if diff:
        lines += ["", diff.rstrip("\n")]
    lines += ["", f"If the change is intended, update the expectation with `just bless {step.nn}`."]
    return "\n".join(lines) + "\n"


_TOOL_VERSIONS: str | None = None


def native_tool_versions() -> str:
    """The first line of `cc --version` and of `readelf --version` (binutils: readelf, nm, ld)."""
    global _TOOL_VERSIONS
    if _TOOL_VERSIONS is None:
        import subprocess
        lines = []
        for tool in ("cc", "readelf"):
            try:
                out = subprocess.run([tool, "--version"], capture_output=True, text=True).stdout
            except OSError:
                out = "missing"
            lines.append(f"{tool}: {out.splitlines()[0] if out else 'no version'}")
        _TOOL_VERSIONS = "\n".join(lines)
    return _TOOL_VERSIONS


def cache_key(step: Step, cid: str, manifest: dict) -> str:
    h = hashlib.sha256()
    h.update(Path(__file__).read_bytes())  # the runner itself
    # The interpreter the commands run as `python3` (this one: .venv's) and the native tools they
    # call: a new version of any reruns them all.
    h.update(f"{os.path.realpath(sys.executable)} {sys.version}".encode())
    h.update(native_tool_versions().encode())
    h.update(json.dumps(step.command(cid), sort_keys=True).encode())
    h.update(json.dumps(manifest, sort_keys=True).encode())
    expected_file = step.expected_path(cid)
    h.update(expected_file.read_bytes() if expected_file.exists() else b"<none>")
    return h.hexdigest()[:32]


def markdown(transcript: str, cmd: dict) -> str:
    if cmd.get("html"):
        return transcript
    fence = "```"
    while fence in transcript:
        fence += "`"
    return f"{fence}console\n{transcript}{fence}\n"


def cmd_show(nn: str, cid: str) -> int:
    """Used by the pages. Cached only after a passing run, keyed on everything the result depends on:
    the runner, the command definition, the expectation and the contents of the staged artifacts."""
    step = find_step(nn)
    step.command(cid)
    manifest = ensure_staged(step)
    key = cache_key(step, cid, manifest)
    cached = CACHE / f"{step.nn}-{cid}-{key}.txt"
    if cached.exists():
        sys.stdout.write(write_ready(step, cid, cached.read_text()))
        return 0
    transcript, problems = run_command(step, cid)
    report = verdict(step, cid, transcript, problems)
    if report:
        FAILURES.mkdir(parents=True, exist_ok=True)
        (FAILURES / f"{step.nn}-{cid}.txt").write_text(report)
        sys.stderr.write(report)
        return 1
    CACHE.mkdir(parents=True, exist_ok=True)
    for old in CACHE.glob(f"{step.nn}-{cid}-*.txt"):
        old.unlink()
    cached.write_text(transcript)
    sys.stdout.write(write_ready(step, cid, transcript))
    return 0


def write_ready(step: Step, cid: str, transcript: str) -> str:
    """Writes (and returns) the page output of a command whose cached result is valid now.

    The shell wrapper prints it without starting Python as long as no file under steps/ and not
    this script is newer than it: any edit there sends the page back through cmd_show, which
    rebuilds, reruns and rechecks as needed. `prepare` rewrites these files after every build,
    for exactly the commands whose cache entry matches the freshly staged artifacts."""
    text = markdown(transcript, step.command(cid))
    READY.mkdir(parents=True, exist_ok=True)
    (READY / f"{step.nn}-{cid}.md").write_text(text)
    return text


def cmd_step(nn: str) -> int:
    step = find_step(nn)
    stage([step])
    reports = []
    print(f"# {step.label}\n")
    for cid, cmd in step.commands.items():
        transcript, problems = run_command(step, cid)
        note = "" if compared(cmd) else "   (shown, not compared: machine-dependent)"
        print(f"## {cid}{note}\n{transcript}")
        report = verdict(step, cid, transcript, problems)
        if report:
            reports.append(report)
    if reports:
        sys.stderr.write("\n".join(reports))
        print(f"chapter {step.nn}: {len(reports)} of {len(step.commands)} commands FAILED")
        return 1
    print(f"chapter {step.nn}: all {len(step.commands)} commands ran and match their expectations")
    return 0


def cmd_bless(nns: list[str]) -> int:
    import subprocess
    steps = [find_step(n) for n in nns] if nns else all_steps()
    stage(steps)
    failed = []
    for step in steps:
        for cid, cmd in step.commands.items():
            transcript, problems = run_command(step, cid)
            if problems:
                failed.append(f"{step.label}, `{cid}`: " + "; ".join(problems))
            if compared(cmd):
                path = step.expected_path(cid)
                path.parent.mkdir(exist_ok=True)
                path.write_text(transcript)
    # New expectation files show up in the diff only once git knows of them (as intent to add).
    expected = [str(s.folder / "expected") for s in steps if (s.folder / "expected").exists()]
    subprocess.run(["git", "add", "--intent-to-add", "--", *expected], cwd=ROOT, check=False)
    subprocess.run(["git", "--no-pager", "diff", "--stat", "--", *expected], cwd=ROOT)
    subprocess.run(["git", "--no-pager", "diff", "--", *expected], cwd=ROOT)
    if failed:
        print("\nThese commands did not run as defined; their expectations were written anyway, "
              "fix them before committing:\n  " + "\n  ".join(failed), file=sys.stderr)
        return 1
    return 0


def cmd_prepare() -> int:
    import shutil
    shutil.rmtree(FAILURES, ignore_errors=True)
    shutil.rmtree(READY, ignore_errors=True)
    steps = all_steps()
    stage(steps)
    for step in steps:
        manifest = json.loads((STAGE / step.nn / ".manifest.json").read_text())
        for cid in step.commands:
            cached = CACHE / f"{step.nn}-{cid}-{cache_key(step, cid, manifest)}.txt"
            if cached.exists():
                write_ready(step, cid, cached.read_text())
    return 0


def cmd_check() -> int:
    """After `mdbook build`. mdbook-cmdrun never fails a build: a failing command only leaves
    `**cmdrun error**` in the page, and a missing preprocessor leaves the raw marker. Catch both,
    print the runner's reports, and check that pages and definitions agree."""
    import re
    problems: list[str] = []
    reports = sorted(FAILURES.glob("*.txt")) if FAILURES.exists() else []
    for r in reports:
        problems.append(r.read_text())
    pages = sorted(HTML.rglob("*.html")) if HTML.exists() else []
    if not pages:
        problems.append(f"no HTML under {HTML.relative_to(ROOT)}: did `mdbook build` run?")
    for page in pages:
        text = page.read_text(errors="replace")
        rel = page.relative_to(ROOT)
        if "cmdrun error" in text and not reports:
            problems.append(f"{rel}: mdbook-cmdrun reported an error that left no report: "
                            "run the page's commands with `just step NN` to see it")
        if re.search(r"<!--\s*cmdrun", text):
            problems.append(f"{rel}: a cmdrun marker was left unexpanded: is mdbook-cmdrun installed "
                            "and enabled in book.toml? (run scripts/setup.sh)")
    problems += check_sources()
    if problems:
        sys.stderr.write("\n".join(p.rstrip("\n") for p in problems) + "\n\n")
        sys.stderr.write(f"book check FAILED: {len(problems)} problem(s)\n")
        return 1
    n = sum(len(s.commands) for s in all_steps())
    print(f"book check: {len(pages)} pages, {n} commands, every output matches its expectation")
    return 0


def check_sources() -> list[str]:
    """Pages and step definitions agree; every included anchor exists and every anchor is closed."""
    import re
    problems = []
    shown = set()
    include = re.compile(r"\{\{#(?:include|rustdoc_include)\s+([^}:\s]+)(?::([A-Za-z_][\w-]*))?\s*\}\}")
    for md in sorted(BOOK_SRC.rglob("*.md")):
        text = md.read_text()
        for nn, cid in re.findall(MARKER, text):
            shown.add((nn, cid))
            try:
                find_step(nn).command(cid)
            except Fail as e:
                problems.append(f"{md.relative_to(ROOT)}: {e}")
        for path, anchor in include.findall(text):
            src = (md.parent / path).resolve()
            if not src.exists():
                problems.append(f"{md.relative_to(ROOT)}: includes {path}, which does not exist")
            elif anchor and f"ANCHOR: {anchor}" not in src.read_text():
                problems.append(f"{md.relative_to(ROOT)}: includes {path}:{anchor}, but that "
                                f"file has no `ANCHOR: {anchor}`")
    for step in all_steps():
        for cid in step.commands:
            if (step.nn, cid) not in shown:
                problems.append(f"{step.label}: command `{cid}` is defined but no page shows it")
        for f in step.folder.rglob("*"):
            if f.is_file() and f.suffix in {".rs", ".c", ".h", ".py", ".toml", ".go"}:
                text = f.read_text(errors="replace")
                opened = re.findall(r"ANCHOR: ([\w-]+)", text)
                closed = re.findall(r"ANCHOR_END: ([\w-]+)", text)
                for a in sorted(set(opened) ^ set(closed)):
                    problems.append(f"{f.relative_to(ROOT)}: anchor `{a}` is not both opened and closed")
    return problems


def cmd_list() -> int:
    for step in all_steps():
        print(f"{step.nn}  {step.chapter}  (steps/{step.folder.name})")
        for cid, cmd in step.commands.items():
            first = lines_of(cmd)[0]["run"]
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
            case ["list"]:
                return cmd_list()
            case _:
                print(__doc__)
                return 0 if argv in ([], ["help"]) else 2
    except Fail as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
