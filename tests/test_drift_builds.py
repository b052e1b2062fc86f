"""The drift check's wiring, end to end: one whole `just build` per stage of the pipeline, each in a
throwaway copy of the repository with one kind of fault, expecting red with a message that names
the chapter and the command and shows the wrong value. (Each check is proved on its own, with all
its faults, in tests/test_drift.py.)

The copies are seeded from the main build: they share one cargo target folder, a copy of the main
build's (target/drift-cargo, made once per session, with the main build's record of source
hashes), so that a copy compiles only what its fault changed; and each copy has a cache of its own,
a copy of the main build's, so that it runs only the commands its fault touches and never writes
the main build's cache."""

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from support import ROOT

BUILT = ROOT / "target"


@pytest.fixture(scope="session")
def seeded_target() -> Path:
    """target/drift-cargo: a copy of the main build's cargo folders (each profile's, with its
    fingerprints and times) and of its record of the sources (scripts/bookpipe/build.py,
    sync_sources). The copies keep their sources' times, so cargo finds all of it built; a copy
    that changes a crate rebuilds it here, and the record makes the next copy rebuild it back."""
    if not (BUILT / "book-work" / "checked.json").exists():
        pytest.fail("the main build is missing: run `just build` first")
    seeded = BUILT / "drift-cargo"
    shutil.rmtree(seeded, ignore_errors=True)
    seeded.mkdir()
    for entry in BUILT.iterdir():
        if (entry / ".fingerprint").is_dir() or entry.name in ("book-sources.json", ".rustc_info.json"):
            subprocess.run(["cp", "-a", "--reflink=auto", str(entry), str(seeded)], check=True)
    # Built here once more as the pipeline builds (a no-op when the main build was the last to
    # build there): another cargo may have been last, e.g. `just test`'s `cargo test` with the
    # Justfile's PYO3_PYTHON, which the pipeline resolves where .venv is a link.
    sys.path.insert(0, str(ROOT / "scripts"))
    from bookpipe import build, steps
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CARGO_TARGET_DIR", str(seeded))
        assert build.cargo_build()[2], "the workspace does not build"
        for step in steps.all_steps():
            if step.profile:
                build.cargo_build(step.profile, build.built_packages(step))
    return seeded


class Copy:
    """A throwaway copy of the repository (the files git knows, as they are in the working tree,
    with their times) and the environment its builds run in."""

    def __init__(self, tmp_path: Path, seeded: Path) -> None:
        files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                               cwd=ROOT, capture_output=True, check=True).stdout.split(b"\0")
        self.root = tmp_path / "book"
        for f in filter(None, files):
            src = ROOT / os.fsdecode(f)
            if src.is_file():  # (a symlink to a file stays one)
                (self.root / os.fsdecode(f)).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, self.root / os.fsdecode(f), follow_symlinks=False)
        (self.root / ".venv").symlink_to(ROOT / ".venv")
        self.cache = tmp_path / "cache"
        shutil.copytree(BUILT / "book-work" / "cache", self.cache)
        self.seeded = seeded

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if k not in ("BOOK_TARGET", "BOOK_VENV", "BOOK_READY_TOKEN")}
        env.update(CARGO_TARGET_DIR=str(self.seeded), BOOK_CACHE_DIR=str(self.cache))
        env.update(extra)
        return env

    def run(self, *cmd: str, **extra: str) -> subprocess.CompletedProcess:
        return subprocess.run(cmd, cwd=self.root, env=self.env(**extra), capture_output=True,
                              text=True, timeout=900)

    def build(self, **extra: str) -> subprocess.CompletedProcess:
        return self.run("just", "build", **extra)

    def edit(self, rel: str, old: str, new: str) -> None:
        path = self.root / rel
        text = path.read_text()
        assert old in text, f"{rel} no longer contains {old!r}: update this test"
        path.write_text(text.replace(old, new, 1))


@pytest.fixture
def copy(tmp_path, seeded_target) -> Copy:
    return Copy(tmp_path, seeded_target)


def assert_red(proc: subprocess.CompletedProcess, *needles: str) -> str:
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, f"`{' '.join(proc.args)}` passed despite the drift:\n{out}"
    for needle in needles:
        assert re.search(needle, out), f"the failure message lacks {needle!r}:\n{out}"
    return out


# --- Commands and their outputs ----------------------------------------------------------------


def test_stale_expectation(copy):
    copy.edit("steps/02-c-extension/expected/import.txt", "42", "41")
    out = assert_red(copy.build(), r"FAILED: chapter 02 .*command `import`", r"(?m)^-41$", r"(?m)^\+42$")
    assert "just bless 02" in out


def test_hang_and_detached_children(copy):
    """Three of chapter 2's commands hang: one sleeps, one leaves a detached sleep, one a detached
    endless loop. Each is killed at its timeout with every process it started, and the build goes on."""
    marker = f"317.{os.getpid()}{time.monotonic_ns() % 10**6:06d}"
    runs = {"import": ("python3 -c 'import foo; print(foo.sum(40, 2))'", "2",
                       "python3 -c 'import foo, time; time.sleep(60)'"),
            "docstring": ("python3 -c 'import foo; print(foo.sum.__doc__)'", "3",
                          f"setsid sleep {marker} & echo started"),
            "overflow": ("python3 overflow.py", "3",
                         f"setsid bash -c 'while :; do sleep 1; done' {marker} & echo started")}
    for old, timeout, new in runs.values():
        copy.edit("steps/02-c-extension/commands.toml", f'run = ["{old}"]',
                  f'timeout = {timeout}\nrun = ["{new}"]')
    start = time.monotonic()
    out = assert_red(copy.build(), *(rf"FAILED: chapter 02 .*command `{cid}`" for cid in runs),
                     r"was still running after its timeout of 2 s", r"was still running after its "
                     r"timeout of 3 s, so it and every process it started were killed",
                     r"A hang is not a changed output: do not bless it")
    assert time.monotonic() - start < 180, "the build waited for the detached processes"
    assert "update the expectation with" not in out
    left = subprocess.run(["pgrep", "-f", re.escape(marker)], capture_output=True, text=True)
    assert left.stdout == "", f"processes outlived the command: {left.stdout}"


def test_wrong_shape(copy):
    """An output shown but not compared (timings) that is empty."""
    copy.edit("steps/04-concurrency/commands.toml", 'run = ["python3 scaling.py"]', 'run = ["true"]')
    assert_red(copy.build(), r"FAILED: chapter 04 .*command `scaling`", r"its output is empty")


def test_version_specific_expectation(copy):
    """An expectation for the running CPython version takes precedence over expected/ID.txt."""
    version = subprocess.run([str(ROOT / ".venv/bin/python"), "-c",
                              "import sys; print('%d.%d' % sys.version_info[:2])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    expected = copy.root / "steps/02-c-extension/expected"
    (expected / f"import@{version}.txt").write_text((expected / "import.txt").read_text().replace("42", "41"))
    assert_red(copy.build(), r"FAILED: chapter 02 .*command `import`",
               rf"expected \(steps/02-c-extension/expected/import@{re.escape(version)}\.txt\)", r"(?m)^-41$")


def test_output_that_changes_stream(copy):
    copy.edit("steps/02-c-extension/py/overflow.py", "print(foo.sum(2**63 - 2, 1))",
              'print(foo.sum(2**63 - 2, 1), file=__import__("sys").stderr)')
    assert_red(copy.build(), r"FAILED: chapter 02 .*command `overflow`",
               r"differs from the expectation: only the streams", r"(?m)^\+2\| 9223372036854775807$")


def test_callers_environment(copy, tmp_path):
    """With these set in the caller's shell and nothing cached, chapter 6's outputs changed once
    (the faulthandler dumps tracebacks on the deliberate crashes, warnings turn into errors)."""
    proc = copy.run("just", "step", "06", BOOK_CACHE_DIR=str(tmp_path / "empty-cache"),
                    PYTHONFAULTHANDLER="1", PYTHONWARNINGS="error", RUST_BACKTRACE="full",
                    PYTHONPATH=str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_tampered_cache(copy):
    """A cached result is shown only while it equals its expectation, whatever the cache holds."""
    tampered = list(copy.cache.glob("02-import-*.txt"))
    assert tampered, "the main build's cache has no result for 02 import: run `just build` first"
    for f in tampered:
        f.write_text(f.read_text().replace("42", "41"))
    proc = copy.build()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    page = (copy.root / "target/book/ch02-c-extension.html").read_text()
    assert re.search(r"(?m)^42$", page) and not re.search(r"(?m)^41$", page)


def test_by_hand_staging(copy):
    """Chapter 2's by-hand.sh, which its page shows, no longer gathers overflow.py."""
    copy.edit("steps/02-c-extension/by-hand.sh", "cp ../../../steps/02-c-extension/py/overflow.py .\n", "")
    assert_red(copy.build(), r"chapter 02 .*: steps/02-c-extension/by-hand\.sh, which its page shows, "
               r"gathers other files than the book's commands ran with: only by hand \[\], only "
               r"staged \['overflow\.py'\]")


# --- The pages: mdbook, its preprocessor, its log ---------------------------------------------


def test_unexpanded_marker(copy):
    copy.edit("book.toml", "[preprocessor.cmdrun]", "")
    assert_red(copy.build(), r"cmdrun marker was left unexpanded")


def test_mdbook_error(copy):
    """mdbook only logs what it cannot do and carries on: here, a playground link to a file that
    does not exist (the book's own include check knows nothing of playground links)."""
    copy.edit("book/ch02-c-extension.md", "## Importing it",
              "## Importing it\n\n{{#playground ../steps/02-c-extension/nofile.rs}}\n")
    assert_red(copy.build(), r"mdbook reported: .*\[(ERROR|WARN)\]")


# --- Serving: a reader can always read ----------------------------------------------------------


def free_port() -> int:
    """A port free on the address `localhost` names first, which is where `mdbook serve` binds: on
    a machine whose /etc/hosts lists `::1 localhost` as well, glibc puts ::1 first, and a server
    bound there does not answer on 127.0.0.1 (the fresh-machine rehearsal's red, December 2026)."""
    import socket
    family, kind, _, _, address = socket.getaddrinfo("localhost", 0, type=socket.SOCK_STREAM)[0]
    with socket.socket(family, kind) as s:
        s.bind(address)
        return s.getsockname()[1]


def serve_and_fetch(cmd: list[str], cwd: Path, env: dict, page: str, timeout: float = 300) -> str:
    """Start a server, fetch `page` from it once it answers, stop it; the page's text. The page is
    fetched from `localhost`, as the reader's browser does, on every address that name has."""
    import urllib.request
    port = free_port()
    start = time.monotonic()
    proc = subprocess.Popen([*cmd, str(port)] if cmd[0] == "just" else [*cmd, "--port", str(port)],
                            cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        while True:
            assert proc.poll() is None, f"{cmd} ended: {proc.communicate()[0].decode()}"
            assert time.monotonic() - start < timeout, f"{cmd} served nothing in {timeout} s"
            try:
                with urllib.request.urlopen(f"http://localhost:{port}/{page}", timeout=2) as r:
                    return r.read().decode()
            except OSError:
                time.sleep(0.1)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.communicate()


def test_serve(copy):
    """`just serve` with an output broken on purpose: one summary names it, the page shows its
    box, a plain `mdbook build` (no `book check`) shows it too, and `just build` still fails."""
    copy.edit("steps/02-c-extension/expected/import.txt", "42", "41")
    prepare = copy.run("scripts/book", "prepare")
    assert prepare.returncode == 0, prepare.stderr
    summary = copy.run("scripts/book", "summary")
    assert summary.returncode == 0
    assert re.search(r"book: 1 output\(s\) failed their check", summary.stderr), summary.stderr
    assert re.search(r"chapter 02 `import`: its output differs from the expectation", summary.stderr)
    page = serve_and_fetch(["just", "serve"], copy.root, copy.env(), "ch02-c-extension.html")
    assert 'class="book-failure"' in page, "the served page shows no failure box"
    assert re.search(r"(?m)^-41$", page) and re.search(r"(?m)^\+42$", page)
    plain = copy.run("mdbook", "build", PATH=f"{copy.root / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}")
    assert plain.returncode == 0, plain.stdout + plain.stderr
    page = (copy.root / "target/book/ch02-c-extension.html").read_text()
    assert "This output failed its check</strong>: chapter 02, command <code>import</code>" in page
    assert re.search(r"(?m)^-41$", page) and re.search(r"(?m)^\+42$", page), "the box lacks the diff"
    assert_red(copy.build(), r"FAILED: chapter 02 .*command `import`")


def test_plain_mdbook_serve(copy):
    """What mdBook users type, with nothing of the Justfile's environment: the book's outputs
    are checked and shown all the same."""
    env = {k: v for k, v in copy.env().items() if k not in ("PYO3_PYTHON", "VIRTUAL_ENV")}
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if ".venv" not in p)
    page = serve_and_fetch(["mdbook", "serve"], copy.root, env, "ch02-c-extension.html", timeout=600)
    assert "book-failure" not in page and re.search(r"(?m)^42$", page), page[-2000:]


# --- Sources that cargo builds: last, since each leaves its crates rebuilt in the shared target
# folder (the next copy rebuilds them back, as the record of sources says) ---------------------


def test_changed_rust_code(copy):
    """An edit of each Rust crate a chapter stages: a library (01), extension modules (03, 05)."""
    copy.edit("steps/01-shared-library/src/lib.rs", "a.wrapping_add(b)", "a.wrapping_add(b) + 1")
    for path in ("steps/03-rust-extension/src/lib.rs", "steps/05-hard-way/src/lib.rs"):
        copy.edit(path, "Some(sum) => unsafe { PyLong_FromLongLong(sum) }",
                  "Some(sum) => unsafe { PyLong_FromLongLong(sum + 1) }")
    out = assert_red(copy.build(), r"FAILED: chapter 01 .*command `sum`",
                     r"FAILED: chapter 03 .*command `final-sum`", r"FAILED: chapter 05 .*command `import`")
    reports = re.split(r"(?m)^(?=FAILED: )", out)
    for chapter, command in (("01", "sum"), ("03", "final-sum"), ("05", "import")):
        report = next(r for r in reports if re.match(rf"FAILED: chapter {chapter} .*command `{command}`", r))
        assert re.search(r"(?m)^-42$", report) and re.search(r"(?m)^\+43$", report), report


def test_changed_c_code(copy):
    copy.edit("steps/02-c-extension/foo.c", "PyLong_FromLongLong(result)", "PyLong_FromLongLong(result + 1)")
    assert_red(copy.build(), r"FAILED: chapter 02 .*command `import`", r"(?m)^\+43$")


def test_edit_saved_with_an_old_time(copy):
    """The clean copy is green; then an edit saved with an old time (an archive, a copy that keeps
    times, `touch -d`), which cargo alone would not rebuild, is caught by `just build` and `just step`."""
    proc = copy.build()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    src = copy.root / "steps/04-concurrency/src/threads.rs"
    copy.edit("steps/04-concurrency/src/threads.rs", '"tick {i}"', '"tock {i}"')
    os.utime(src, (1577836800, 1577836800))  # 2020-01-01
    assert_red(copy.build(), r"FAILED: chapter 04 .*command `tick`", r"(?m)^\+tock 1$")
    assert_red(copy.run("just", "step", "04"), r"FAILED: chapter 04 .*command `tick`", r"(?m)^\+tock 1$")
