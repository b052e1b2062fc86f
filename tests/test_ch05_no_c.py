"""Chapter 5 promises a module with no C: no C source, no build script, no cc dependency."""

import tomllib

from support import ROOT

STEP = ROOT / "steps" / "05-hard-way"


def test_no_c_sources():
    c_files = [p.relative_to(ROOT) for p in STEP.rglob("*") if p.suffix in {".c", ".h", ".cc", ".cpp"}]
    assert c_files == [], f"chapter 5 must hold no C: found {c_files}"


def test_no_build_script_and_no_cc():
    for manifest in STEP.rglob("Cargo.toml"):
        crate = manifest.parent
        assert not (crate / "build.rs").exists(), f"{crate.relative_to(ROOT)} has a build script"
        spec = tomllib.loads(manifest.read_text())
        assert "build" not in spec.get("package", {}), f"{manifest.relative_to(ROOT)} names a build script"
        deps = {**spec.get("dependencies", {}), **spec.get("build-dependencies", {})}
        assert "cc" not in deps, f"{manifest.relative_to(ROOT)} depends on cc"


def test_no_ffi_crate_has_no_dependencies():
    spec = tomllib.loads((STEP / "no-ffi" / "Cargo.toml").read_text())
    assert not spec.get("dependencies"), "the no-ffi crate must declare the C API itself"
