"""No extension module that the build produced depends on libpython (chapter 3, "What links the
module to libpython"). An extension module must leave CPython's symbols undefined, for the
interpreter that imports it to provide: a `NEEDED libpython3.X.so` would load a second interpreter
into any CPython of another version, or into a statically linked one."""

import subprocess
import sysconfig
from pathlib import Path

import pytest

from support import ROOT

TARGET = ROOT / "target"
# Chapter 3's `libpython` command builds a module the wrong way on purpose, in this folder.
DELIBERATE = TARGET / "book-work" / "cargo-wrong-way"


def dynamic_section(path: Path) -> str:
    return subprocess.run(["readelf", "-d", str(path)], capture_output=True, text=True,
                          check=True).stdout


def is_extension_module(path: Path) -> bool:
    out = subprocess.run(["nm", "-D", "--defined-only", str(path)], capture_output=True,
                         text=True).stdout
    return any(line.split()[-1].startswith("PyInit_") for line in out.splitlines() if line.split())


def needs_libpython(path: Path) -> list[str]:
    """The NEEDED entries of `path` that name a libpython."""
    return [line.strip() for line in dynamic_section(path).splitlines()
            if "(NEEDED)" in line and "libpython" in line]


def extension_modules() -> list[Path]:
    found = []
    for path in sorted(TARGET.rglob("*.so")):
        if DELIBERATE in path.parents or not path.is_file() or path.is_symlink():
            continue
        if is_extension_module(path):
            found.append(path)
    return found


def test_no_extension_module_needs_libpython():
    modules = extension_modules()
    if not modules:
        pytest.fail(f"no extension module under {TARGET}: run `just build` first")
    # Every chapter's modules are among them: the staged copies that the book's commands import.
    staged = {p.name for p in modules if "stage" in p.parts}
    assert {"foo.abi3.so", "errors.abi3.so", "broken.abi3.so"} <= staged, staged
    bad = {str(p.relative_to(ROOT)): needs_libpython(p) for p in modules if needs_libpython(p)}
    assert not bad, ("these extension modules depend on libpython (was the crate built without "
                     f"PYO3_BUILD_EXTENSION_MODULE, see steps/.cargo/config.toml?): {bad}")


def test_the_check_catches_a_module_linked_to_libpython(tmp_path):
    """Fault injection: a module linked the way pyo3-ffi links without PYO3_BUILD_EXTENSION_MODULE
    (`-lpython3.X`) is flagged, and the same module linked without it is not."""
    source = tmp_path / "bad.c"
    source.write_text('#include <Python.h>\nPyMODINIT_FUNC PyInit_bad(void) { return NULL; }\n')
    version = sysconfig.get_config_var("LDVERSION")
    libdir = sysconfig.get_config_var("LIBDIR")
    if not (Path(libdir) / f"libpython{version}.so").exists():
        pytest.skip(f"this interpreter has no libpython{version}.so to link against")
    common = ["cc", "-shared", "-fPIC", f"-I{sysconfig.get_path('include')}", str(source)]
    bad, good = tmp_path / "bad.abi3.so", tmp_path / "good.abi3.so"
    subprocess.run(common + ["-o", str(bad), "-Wl,--no-as-needed", f"-L{libdir}",
                             f"-lpython{version}"], check=True)
    subprocess.run(common + ["-o", str(good)], check=True)
    assert is_extension_module(bad) and is_extension_module(good)
    assert needs_libpython(bad) and f"libpython{version}.so" in needs_libpython(bad)[0]
    assert needs_libpython(good) == []
