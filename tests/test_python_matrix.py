"""The book is green with every CPython >= 3.11 on the machine as the reader's `python3`.

For each version other than the book's own interpreter (which `just build`, the first thing
`just test` does, has just checked), this runs what a reader with that version runs: the README's
`scripts/setup.sh && just build`, with that version first on PATH. Its environment, staged files,
cache and rendered book go in a folder of its own (target/matrix/3.N), so the main build is
untouched. The commands then run under that interpreter and are compared with its expectations
(expected/ID@3.N.txt where its output really differs).

CPython 3.14 and 3.15 come from Debian sid (scripts/pythons.sh). For them the same command runs
inside the sid root folder, with that version as its `python3`: there the reader's machine is a sid
one (bash 5.3, GCC 16, glibc 2.43, sid's valgrind), which is what a reader with 3.14 or 3.15 from
their distribution has, and which tests that no output depends on the tools' versions.

The Rust is built once per toolchain, not once per CPython: that is chapter 9's lesson (an abi3
module serves every version) applied to the book's own build. pyo3-ffi asks no interpreter
(`PYO3_NO_PYTHON`, steps/.cargo/config.toml), and only the build scripts that compile C against
Python.h read one, and say so to cargo (scripts/lint_build_scripts.py). So 3.12 and 3.13 share the
main build's cargo folder (target/), and 3.15 shares 3.14's (target/matrix/cargo-sid): for them
cargo compiles only the packages that read the interpreter, and every other staged file must be
byte-identical to the one built for the toolchain's first CPython."""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from support import ROOT, SID_RUN, in_sid_root, interpreter, missing

MATRIX = ["3.11", "3.12", "3.13", "3.14", "3.15"]
OWN = "%d.%d" % sys.version_info[:2]
STEPS = ROOT / "steps"
# Cargo's output folder per toolchain: the host's is the main build's.
HOST_CARGO = ROOT / "target"
SID_CARGO = ROOT / "target" / "matrix" / "cargo-sid"
# The build scripts that compile C against the interpreter's Python.h (through build-support).
READS_INTERPRETER = re.compile(r"\b(python_include_dir|compile_extension_module)\(")


def checked(target: Path) -> dict:
    record = target / "book-work" / "checked.json"
    assert record.exists(), f"{record} is missing: the book check did not pass there"
    return json.loads(record.read_text())


def book_under(version: str, exe: str, *, root: Path = ROOT, target: Path,
               venv: Path | None = None, cache: Path | None = None) -> subprocess.CompletedProcess:
    """The README's `scripts/setup.sh && just build` in `root`, as a reader whose python3 is
    `exe` runs it, building into `target` with the toolchain's shared cargo folder."""
    sid = in_sid_root(exe)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "BOOK_READY_TOKEN")}
    # The reading path's setup (no --tests): only what `just build` needs.
    env.update(BOOK_VENV=str(venv or target / "venv"), BOOK_TARGET=str(target),
               CARGO_TARGET_DIR=str(SID_CARGO if sid else HOST_CARGO))
    if cache is not None:
        env["BOOK_CACHE_DIR"] = str(cache)
    command = ["sh", "-c", "scripts/setup.sh && just build"]
    if sid:
        # sid has no `python3`: /opt/book/3.N/bin/python3 is that version (scripts/pythons.sh).
        cargo_bin = os.path.dirname(os.path.realpath(shutil.which("cargo") or "cargo"))
        env["PATH"] = f"/opt/book/{version}/bin:{cargo_bin}:/usr/local/bin:/usr/bin:/bin"
        command = [str(SID_RUN), *command]
    else:
        env["PATH"] = f"{os.path.dirname(exe)}{os.pathsep}{env['PATH']}"
    print(f"CPython {version}: scripts/setup.sh && just build, in {root} "
          f"(BOOK_TARGET={target}, CARGO_TARGET_DIR={env['CARGO_TARGET_DIR']})")
    return subprocess.run(command, cwd=root, env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=2400)


def build_scripts() -> dict[str, Path]:
    """Every package of the workspace that has a build script, by name, with the script (build.rs
    beside the manifest, or where its `build` key says: chapter 3's stages share one)."""
    found = {}
    for manifest in STEPS.rglob("Cargo.toml"):
        if "target" in manifest.relative_to(STEPS).parts:
            continue
        package = tomllib.loads(manifest.read_text()).get("package")
        if package and package.get("build") is not False:
            script = (manifest.parent / package.get("build", "build.rs")).resolve()
            if script.exists():
                found[package["name"]] = script
    return found


def interpreter_packages() -> set[str]:
    """The packages whose build script compiles C against the interpreter's headers."""
    return {name for name, script in build_scripts().items()
            if READS_INTERPRETER.search(script.read_text())}


def staged_from(stage: Path) -> dict[str, tuple[str, str]]:
    """Each staged file (NN/name) with its sha256 and the package it came from."""
    sys.path.insert(0, str(ROOT / "scripts"))
    from bookpipe import steps as bookpipe_steps
    found = {}
    for step in bookpipe_steps.all_steps():
        for name, source in step.stage_spec.items():
            path = stage / step.nn / name
            if not path.exists():
                continue  # an optional file this build did not make
            kind = source.removeprefix("?").partition(":")[0]
            package = "src" if kind == "src" else (kind.partition("@")[2] or step.package)
            found[f"{step.nn}/{name}"] = (hashlib.sha256(path.read_bytes()).hexdigest(), package)
    return found


def built_once(version: str, target: Path, reference: Path) -> list[str]:
    """What breaks "the Rust is built once per toolchain" in the build at `target`, against the
    toolchain's first build at `reference`: a package compiled again that does not read the
    interpreter, or a staged file from one that differs from the reference's."""
    allowed = interpreter_packages()
    problems = []
    compiled = json.loads((target / "book-work" / "compiled-packages.json").read_text())
    for package in sorted(set(compiled) - allowed):
        problems.append(f"cargo compiled {package} again for CPython {version}, though no build "
                        "script of it reads the interpreter")
    ours, theirs = staged_from(target / "book-work" / "stage"), \
        staged_from(reference / "book-work" / "stage")
    for name, (digest, package) in sorted(ours.items()):
        if package in allowed:
            continue
        if name not in theirs:
            problems.append(f"{name} was staged for CPython {version} only")
        elif theirs[name][0] != digest:
            problems.append(f"{name} (from {package}) differs from the one staged at {reference}")
    return problems


@pytest.mark.parametrize("version", MATRIX)
def test_book_is_green_under(version):
    if version == OWN:
        # This is the book's own interpreter: `just test` began with `just build`, which checked
        # the whole book with it and recorded so.
        got = checked(ROOT / "target")
        assert got["python"] == OWN, f"the main build was checked under {got['python']}, not {OWN}"
        return
    exe = interpreter(version)
    if exe is None:
        pytest.skip(missing(version))
    target = ROOT / "target" / "matrix" / version
    proc = book_under(version, exe, target=target)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, (f"with CPython {version} as python3, "
                                  f"`scripts/setup.sh && just build` failed:\n{out[-20000:]}")
    assert checked(target)["python"] == version
    # Built once per toolchain: against the main build on the host, against 3.14's in the sid root.
    if in_sid_root(exe):
        reference = ROOT / "target" / "matrix" / "3.14"
        if version == "3.14":
            return  # the sid toolchain's first build: nothing to compare with
        if not (reference / "book-work" / "checked.json").exists():
            pytest.skip("CPython 3.14 in the sid root did not build here: 3.15's Rust has no "
                        "build of the same toolchain to be compared with (scripts/pythons.sh)")
    else:
        reference = ROOT / "target"
    problems = built_once(version, target, reference)
    assert not problems, "\n".join(problems)


def test_the_build_scripts_that_read_the_interpreter_are_known():
    """The matrix allows exactly these packages to compile again per CPython; the C they compile
    is the only thing in the staged modules that depends on the interpreter."""
    assert interpreter_packages() == {
        "step02-c-extension", "step03-rust-extension", "step07-call-overhead", "step07-go-sum",
        *(f"step03-stage{n}" for n in ("1-c-archive", "2-init-in-rust", "3-returns-zero",
                                       "4-parse-tuple"))}


def throwaway_copy(dest: Path) -> Path:
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                           cwd=ROOT, capture_output=True, check=True).stdout.split(b"\0")
    for f in filter(None, files):
        src = ROOT / os.fsdecode(f)
        if src.is_file():
            (dest / os.fsdecode(f)).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / os.fsdecode(f))  # with its time: the shared cargo folder's
            # record of source hashes decides what is rebuilt (scripts/bookpipe/build.py)
    return dest


STAGE_ONLY = """
import json, sys
sys.path.insert(0, "scripts")
from bookpipe import build, steps
print("FAILED " + json.dumps(build.stage(steps.all_steps(), keep_going=True)))
"""


def test_c_that_fails_under_one_version_turns_only_that_version_red(tmp_path):
    """Fault injection: chapter 2's foo.c refuses to compile under CPython 3.13 only. Built once
    per toolchain, the matrix must still compile the C against each version's own headers: 3.12
    builds and stages every step, and 3.13 fails chapter 2, naming the file and the error. Only
    `just build`'s first stage runs (cargo and staging, as the matrix's builds run it, in the
    shared cargo folder): the commands after it are the matrix test's own business."""
    exes = {v: interpreter(v) for v in ("3.12", "3.13")}
    if None in exes.values() or OWN in exes:
        pytest.skip("needs CPython 3.12 and 3.13 besides the book's own "
                    f"({', '.join(missing(v) for v, e in exes.items() if e is None)})")
    copy = throwaway_copy(tmp_path / "book")
    foo = copy / "steps" / "02-c-extension" / "foo.c"
    foo.write_text(foo.read_text().replace(
        "#include <Python.h>\n",
        "#include <Python.h>\n#if PY_MINOR_VERSION == 13\n#error \"injected: not under 3.13\"\n"
        "#endif\n", 1))
    assert "injected" in foo.read_text(), "foo.c no longer includes <Python.h> as expected"
    results = {}
    for version in exes:
        venv = ROOT / "target" / "matrix" / version / "venv"
        if not (venv / "requirements.installed").exists():
            pytest.skip(f"target/matrix/{version} has no environment: run the matrix test first")
        env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "BOOK_READY_TOKEN")}
        env.update(BOOK_VENV=str(venv), BOOK_TARGET=str(tmp_path / version),
                   CARGO_TARGET_DIR=str(HOST_CARGO))
        proc = subprocess.run([str(venv / "bin" / "python"), "-S", "-c", STAGE_ONLY], cwd=copy,
                              env=env, capture_output=True, text=True, timeout=1200)
        out = proc.stdout + proc.stderr
        assert proc.returncode == 0, out[-8000:]
        failed = json.loads(proc.stdout.split("FAILED ", 1)[1])
        results[version] = failed, out
    assert results["3.12"][0] == {}, f"3.12 went red too: {results['3.12'][0]}"
    failed, out = results["3.13"]
    # Chapter 7 stages chapter 2's module too (a row of its table).
    assert sorted(failed) == ["02", "07"] and all("step02-c-extension" in why
                                                  for why in failed.values()), \
        f"3.13 should fail the chapters that stage chapter 2's module only: {failed}\n{out[-8000:]}"
    assert "injected: not under 3.13" in out and "foo.c" in out, out[-8000:]


def test_the_lint_catches_an_undeclared_interpreter_read(tmp_path):
    """scripts/lint_build_scripts.py is green on the workspace, and red on a build script that
    asks an interpreter something without telling cargo."""
    lint = [sys.executable, str(ROOT / "scripts" / "lint_build_scripts.py")]
    clean = subprocess.run(lint, capture_output=True, text=True)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    reads_var = tmp_path / "reads_var.rs"
    reads_var.write_text('fn main() {\n    let p = std::env::var("PYO3_PYTHON").unwrap();\n'
                         '    // println!("cargo::rerun-if-env-changed=PYO3_PYTHON");\n}\n')
    from_path = tmp_path / "from_path.rs"
    from_path.write_text('fn main() {\n    std::process::Command::new("python3").status().unwrap();'
                         '\n}\n')
    for fault, needle in ((reads_var, "reads PYO3_PYTHON without"),
                          (from_path, "runs python3 from PATH without")):
        proc = subprocess.run([*lint, str(fault)], capture_output=True, text=True)
        assert proc.returncode == 1 and needle in proc.stdout, proc.stdout + proc.stderr
