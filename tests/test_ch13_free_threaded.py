"""Chapter 13's safe_ring: chapter 10's contract (tests/children/ring_contract.py) and a
many-threads stress (steps/13-free-threaded/py/ring_threads.py, shown on the page) under every CPython >= 3.10 and the debug
builds; the stress shown to fail on rings that break its rules; the same suites under a
free-threaded CPython when one is found (python3.14t or python3.15t, on PATH or under pyenv),
with the module built for it; and the Rust side's concurrency checks: loom's model and, where the
nightly toolchain can build it, ThreadSanitizer. Each run is a child process."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support import (ABI3_VERSIONS, CHILDREN, ROOT, STAGE, crashreport, describe_exit,
                     interpreter, missing)

CONTRACT = CHILDREN / "ring_contract.py"
THREADS = ROOT / "steps" / "13-free-threaded" / "py" / "ring_threads.py"
SAFE = STAGE / "13" / "safe_ring.abi3.so"
CH10 = STAGE / "10" / "ring.abi3.so"
STEP = ROOT / "steps" / "13-free-threaded"
SAID = "each returned or was refused"


def python_for(version: str) -> str:
    python = interpreter(version)
    if python is None:
        pytest.skip(missing(version))
    return python


def test_the_chapter_stages_its_ring():
    assert SAFE.exists(), f"run `just build` first: {SAFE} is missing"


@pytest.mark.parametrize("version", ABI3_VERSIONS)
def test_chapter_10s_contract(version):
    proc = crashreport.run([python_for(version), str(CONTRACT), str(SAFE)], timeout=120)
    assert proc.returncode == 0, f"safe_ring under CPython {version}: {describe_exit(proc)}"


@pytest.mark.parametrize("version", ABI3_VERSIONS)
def test_many_threads(version):
    proc = crashreport.run([python_for(version), str(THREADS), str(SAFE), "16", "2000"],
                           timeout=300)
    assert proc.returncode == 0 and SAID in proc.stdout, (
        f"safe_ring's stress under CPython {version}: {describe_exit(proc)}")


def test_under_a_gil_chapter_10s_ring_passes_the_stress_too():
    """What a GIL build cannot show: chapter 10's plain flag passes the same stress, because the
    GIL lets one call run at a time. Only a free-threaded CPython (below), loom and TSan can tell
    the two rings apart."""
    assert CH10.exists(), f"run `just build` first: {CH10} is missing"
    proc = subprocess.run([sys.executable, str(THREADS), str(CH10), "16", "2000"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and SAID in proc.stdout, describe_exit(proc)


# Rings that break one of the stress's rules each, made by wrapping the real one in Python.
FAULTS = {
    "a value never dropped": ("_kept = []\nclass Ring(_real.Ring):\n"
                              "    def __init__(self, *a, **k):\n        _kept.append(self)\n"),
    "another error under contention": (
        "import random\nclass Ring(_real.Ring):\n"
        "    def push(self, item):\n"
        "        if random.random() < 0.01:\n"
        "            raise RuntimeError('Ring is busy')\n"
        "        return super().push(item)\n"),
    "items() and len() disagree": ("class Ring(_real.Ring):\n"
                                   "    def items(self):\n        return super().items() + [(0, 0)]\n"),
}
WRAPPER = """import importlib.machinery, importlib.util
_loader = importlib.machinery.ExtensionFileLoader("safe_ring", {real!r})
_real = importlib.util.module_from_spec(importlib.util.spec_from_loader("safe_ring", _loader))
_loader.exec_module(_real)
live = _real.live
{body}"""


@pytest.mark.parametrize("fault", FAULTS)
def test_the_stress_catches(fault, tmp_path):
    def run(body):
        path = tmp_path / "fake_ring.py"
        path.write_text(WRAPPER.format(real=str(SAFE), body=body))
        return subprocess.run([sys.executable, str(THREADS), str(path), "8", "1000"],
                              capture_output=True, text=True, timeout=120)
    ok = run("class Ring(_real.Ring):\n    pass\n")
    assert ok.returncode == 0, f"the faultless wrapper fails the stress:\n{ok.stderr}"
    bad = run(FAULTS[fault])
    assert bad.returncode == 1 and "AssertionError" in bad.stderr, (
        f"the stress missed the fault {fault!r}: {describe_exit(bad)}")


# --- Without a GIL ---------------------------------------------------------------------------

FREE_THREADED = ["3.14t", "3.15t"]
INSTALL = ("no free-threaded CPython on this machine (looked for python{v} on PATH and under "
           "~/.pyenv/versions/{v}*): install one (`pyenv install {v}`, or python.org's installer "
           "with its free-threaded option) to run safe_ring's suites without a GIL")


def free_threaded(version: str) -> str | None:
    candidates = [shutil.which(f"python{version}")]
    candidates += sorted(str(p) for p in Path.home().glob(f".pyenv/versions/{version[:-1]}*t/bin/python3"))
    for python in filter(None, candidates):
        proc = subprocess.run([python, "-c", "import sysconfig; "
                               "print(sysconfig.get_config_var('Py_GIL_DISABLED'))"],
                              capture_output=True, text=True, timeout=30)
        if proc.stdout.strip() == "1":
            return python
    return None


# A module for one interpreter (not abi3: a free-threaded 3.14 loads no abi3 module), built from
# the step's sources by a real cargo outside the workspace, whose features ask for abi3.
ALONE = """[package]
name = "safe-ring-for-one-python"
edition = "2024"
version = "0.1.0"
[lib]
name = "safe_ring"
crate-type = ["cdylib"]
path = {lib!r}
[dependencies]
pyo3-ffi = "0.30"
borrow = {{ package = "step13-borrow", path = "borrow" }}
[workspace]
"""


def build_for(python: str, tmp_path: Path) -> Path:
    crate = tmp_path / "crate"
    shutil.copytree(STEP / "borrow", crate / "borrow", ignore=shutil.ignore_patterns("target"))
    # The borrow crate's own manifest, without its [workspace] table: the crate above is the root.
    alone = (STEP / "borrow" / "alone.toml").read_text().replace("\n[workspace]\n", "\n")
    (crate / "borrow" / "Cargo.toml").write_text(alone)
    (crate / "Cargo.toml").write_text(ALONE.format(lib=str(STEP / "src" / "lib.rs")))
    shutil.copy(ROOT / "steps" / "Cargo.lock", crate / "Cargo.lock")
    env = dict(os.environ, PYO3_PYTHON=python, PYO3_BUILD_EXTENSION_MODULE="1",
               CARGO_TARGET_DIR=str(ROOT / "target" / "book-work" / "cargo-one-python"))
    env.pop("PYO3_NO_PYTHON", None)
    proc = subprocess.run(["cargo", "build", "--offline", "--quiet", "--release"], cwd=crate,
                          env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    suffix = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_config_var("
                             "'EXT_SUFFIX'))"], capture_output=True, text=True).stdout.strip()
    module = tmp_path / f"safe_ring{suffix}"
    shutil.copy(Path(env["CARGO_TARGET_DIR"]) / "release" / "libsafe_ring.so", module)
    return module


def run_suites(python: str, module: Path) -> subprocess.CompletedProcess:
    # -W error: the warning that CPython gives when an import turns the GIL back on fails the run.
    contract = crashreport.run([python, "-W", "error::RuntimeWarning", str(CONTRACT),
                                str(module)], timeout=300)
    assert contract.returncode == 0, describe_exit(contract)
    stress = crashreport.run([python, "-W", "error::RuntimeWarning", str(THREADS), str(module),
                              "16", "5000"], timeout=600)
    assert stress.returncode == 0 and SAID in stress.stdout, describe_exit(stress)
    return stress


@pytest.mark.parametrize("version", ["3.13", "3.15"])
def test_the_build_for_one_interpreter_works(version, tmp_path):
    """The way the free-threaded suite builds its module, checked with GIL builds (3.13, and 3.15,
    whose pyo3-ffi build numbers Py_mod_gil 87), since this machine may have no free-threaded
    one."""
    python = python_for(version)
    stress = run_suites(python, build_for(python, tmp_path))
    assert "GIL enabled: yes" in stress.stdout


@pytest.mark.parametrize("version", FREE_THREADED)
def test_without_a_gil(version, tmp_path):
    python = free_threaded(version)
    if python is None:
        pytest.skip(INSTALL.format(v=version))
    stress = run_suites(python, build_for(python, tmp_path))
    assert "free-threaded build: yes, GIL enabled: no" in stress.stdout, stress.stdout


# --- The Rust side ---------------------------------------------------------------------------

def test_loom_finds_chapter_10s_race_and_none_in_the_new_state():
    """The same run as the page's `loom` command, held to what each test must report, the
    model of the helper's state block included."""
    env = dict(os.environ, RUSTFLAGS="--cfg loom",
               CARGO_TARGET_DIR=str(ROOT / "target" / "book-work" / "cargo-loom-tests"))
    proc = subprocess.run(["cargo", "test", "--offline", "--quiet", "--release", "-p",
                           "step13-borrow", "--test", "loom", "--", "--nocapture",
                           "--test-threads", "1"], cwd=ROOT / "steps", env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "chapter 10's flag without a GIL: Causality violation" in proc.stdout
    assert re.search(r"the atomic state: no race in \d+ interleavings", proc.stdout)
    # the helper's state block (chapter 8): published whole, and the relaxed fault caught
    assert "the helper's state, release and acquire: no race" in proc.stdout
    assert "the helper's state, relaxed: Causality violation" in proc.stdout


def tsan_available() -> str | None:
    """Why ThreadSanitizer cannot run here, or None."""
    if shutil.which("rustup") is None:
        return "rustup is not installed: install it, then `rustup toolchain install nightly`"
    sysroot = subprocess.run(["rustup", "run", "nightly", "rustc", "--print", "sysroot"],
                             capture_output=True, text=True)
    if sysroot.returncode != 0:
        return "no nightly Rust: `rustup toolchain install nightly`"
    if not (Path(sysroot.stdout.strip()) / "lib/rustlib/src/rust/library").is_dir():
        return "nightly Rust without its sources (-Zbuild-std needs them): " \
               "`rustup component add rust-src --toolchain nightly`"
    return None


def tsan(*test_args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, RUSTFLAGS="-Zsanitizer=thread",
               CARGO_TARGET_DIR=str(ROOT / "target" / "book-work" / "cargo-tsan"))
    return subprocess.run(["rustup", "run", "nightly", "cargo", "test", "--quiet", "-Zbuild-std",
                           "--target", "x86_64-unknown-linux-gnu", "-p", "step13-borrow",
                           "--test", "threads", "--", *test_args], cwd=ROOT / "steps", env=env,
                          capture_output=True, text=True, timeout=1800)


@pytest.mark.skipif(sys.platform != "linux" or os.uname().machine != "x86_64",
                    reason="the TSan run is set up for x86_64 Linux")
def test_thread_sanitizer_sees_no_race_in_the_state_and_the_race_in_chapter_10s_flag():
    why = tsan_available()
    if why:
        pytest.skip(why)
    clean = tsan()
    assert clean.returncode == 0 and "ThreadSanitizer" not in clean.stderr, clean.stderr[-3000:]
    racy = tsan("--ignored", "plain")
    assert racy.returncode != 0 and "WARNING: ThreadSanitizer: data race" in racy.stderr, (
        f"TSan missed chapter 10's flag: exit {racy.returncode}\n{racy.stderr[-2000:]}")


# --- abi3t -----------------------------------------------------------------------------------

def build_alone(folder: str, name: str, abi: str, tmp_path: Path, target: str,
                fault: tuple[str, str] | None = None) -> Path:
    """steps/13-free-threaded/FOLDER, a crate outside the workspace, built with the feature `abi`
    (abi3 or abi3t) in target/TARGET, as bench.py does; returns its library copied to
    NAME.ABI.so. `fault` replaces one string of its source (which must be there) first."""
    crate = tmp_path / f"{folder}-{abi}"
    shutil.copytree(STEP / folder, crate)
    shutil.copy(ROOT / "steps" / "Cargo.lock", crate)
    if fault is not None:
        source = crate / "src" / "lib.rs"
        text = source.read_text()
        assert fault[0] in text, fault
        source.write_text(text.replace(fault[0], fault[1]))
    env = dict(os.environ, CARGO_TARGET_DIR=str(ROOT / "target" / target), PYO3_NO_PYTHON="1",
               PYO3_BUILD_EXTENSION_MODULE="1")
    proc = subprocess.run(["cargo", "build", "--quiet", "--release", "--offline", "--features",
                           abi], cwd=crate, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    module = tmp_path / f"{name}.{abi}.so"
    shutil.copy(ROOT / "target" / target / "release" / f"lib{name}.so", module)
    return module


def build_refcount(abi: str, tmp_path: Path) -> Path:
    """steps/13-free-threaded/abi3t built with the feature `abi` (abi3 or abi3t)."""
    return build_alone("abi3t", "refcount", abi, tmp_path, f"refcount-{abi}")


LOAD = ("import sys, importlib.machinery as m, importlib.util as u\n"
        "loader = m.ExtensionFileLoader('refcount', sys.argv[1])\n"
        "spec = u.spec_from_file_location('refcount', sys.argv[1], loader=loader)\n"
        "mod = u.module_from_spec(spec)\nloader.exec_module(mod)\n"
        "x = object()\nprint(mod.abi(), mod.same(x) is x)\n")


@pytest.mark.parametrize("abi", ["abi3", "abi3t"])
def test_one_source_for_abi3_and_abi3t(abi, tmp_path):
    """Both builds load under CPython 3.15 (a GIL build, whose suffixes include .abi3t.so) through
    PyModExport_refcount; 3.14, which knows no PyModExport, refuses them with an ImportError that
    names the PyInit_ it looked for; and in both builds the increment of same(x) is a call of
    CPython's Py_NewRef, not inline code (pyo3-ffi's src/refcount.rs, for any limited API)."""
    module = build_refcount(abi, tmp_path)
    python = python_for("3.15")
    suffixes = subprocess.run([python, "-c", "import importlib.machinery as m; "
                               "print(m.EXTENSION_SUFFIXES)"], capture_output=True, text=True)
    assert ".abi3t.so" in suffixes.stdout
    loaded = subprocess.run([python, "-c", LOAD, str(module)], capture_output=True, text=True,
                            timeout=60)
    assert loaded.stdout.split() == [abi, "True"], describe_exit(loaded)
    symbols = subprocess.run(["nm", "-D", "--undefined-only", str(module)], capture_output=True,
                             text=True).stdout
    assert re.search(r"\bU Py_NewRef\b", symbols), symbols
    older = interpreter("3.14")
    if older is None:
        pytest.skip(missing("3.14"))
    refused = subprocess.run([older, "-c", LOAD, str(module)], capture_output=True, text=True,
                             timeout=60)
    assert refused.returncode == 1 and "ImportError" in refused.stderr and \
        "PyInit_refcount" in refused.stderr, describe_exit(refused)


# --- a class for abi3t (PEP 697) ---------------------------------------------------------------

TYPEDATA = CHILDREN / "ch13_typedata.py"


def build_typedata(abi: str, tmp_path: Path, fault: tuple[str, str] | None = None) -> Path:
    """steps/13-free-threaded/abi3t-class built with the feature `abi`; `fault` replaces one
    string of its source (which must be there) first."""
    return build_alone("abi3t-class", "typedata", abi, tmp_path,
                       "typedata-fault" if fault else f"typedata-{abi}", fault)


@pytest.mark.parametrize("version", ["3.15", "3.15-dbg"])
@pytest.mark.parametrize("abi", ["abi3", "abi3t"])
def test_a_class_whose_data_follows_an_opaque_header(abi, version, tmp_path):
    """The sketch of the Ring's layout under abi3t: a negative basicsize, and the data found with
    PyObject_GetTypeData and the method's defining class. Both builds load under CPython 3.15
    (and its debug build), and keep a count per instance, also in a Python subclass's."""
    module = build_typedata(abi, tmp_path)
    python = python_for(version)
    proc = subprocess.run([python, str(TYPEDATA), str(module)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0 and proc.stdout.startswith("typedata ok: typedata "), \
        describe_exit(proc)


def test_the_typedata_check_catches_the_wrong_class(tmp_path):
    """The fault: the data looked up with the instance's own type (Py_TYPE) instead of the
    method's defining class. For a Python subclass that is an offset past Counter's data, into
    the subclass's own fields: the check must go red (a wrong count, or a crash)."""
    fault = ("PyObject_GetTypeData(slf, defining_class)",
             "PyObject_GetTypeData(slf, Py_TYPE(slf))")
    module = build_typedata("abi3t", tmp_path, fault)
    python = python_for("3.15-dbg")
    proc = subprocess.run([python, str(TYPEDATA), str(module)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode != 0, f"the fault went unseen: {proc.stdout}"
    assert "AssertionError" in proc.stderr and "s.add()" in proc.stderr, describe_exit(proc)
