"""A reader rebuilds chapter N from what chapters 1 to N show: each file as its listings show it
(the lines of every include of it, in the file's order), written into an empty folder, with the
workspace's `members` cut down as chapter 1's page says (only the lines of the chapters the reader
has), and then the chapter's first `cargo build` must succeed. (tests/test_pages_carry_every_file.py
checks that every needed line is shown; this checks that what is shown builds.)

The registry's crates (cbindgen, pyo3-ffi and theirs) are not what the pages show: the reader's
target folder starts with the book's own build of them, where it is the same build (with the
same features), and every crate of the pages compiles."""

import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from support import ROOT
from test_pages_carry_every_file import ANCHOR_LINE, covered_lines

sys.path.insert(0, str(ROOT / "scripts"))
from bookpipe import config  # noqa: E402  (the environment of the book's own cargo build)

MEMBER_CHAPTER = re.compile(r'^\s*"[^"]+",\s*# chapter (\d+)')


def shown_files(nn: str) -> dict[Path, list[str]]:
    """Each file that chapters 1..nn include -> its lines as the listings show them: the lines
    the include check counts as shown (covered_lines), without the anchor comments."""
    files = {}
    for src, numbers in covered_lines(nn).items():
        lines = src.read_text().splitlines()
        files[src] = [lines[i] for i in sorted(numbers) if not ANCHOR_LINE.search(lines[i])]
    return files


def members_for(lines: list[str], nn: str) -> list[str]:
    """The workspace manifest as chapter 1 tells a reader with chapters 1..nn to write it."""
    kept = []
    for line in lines:
        m = MEMBER_CHAPTER.match(line)
        if m and int(m.group(1)) > int(nn):
            continue
        kept.append(line)
    return kept


def test_the_manifest_says_which_chapter_adds_each_member():
    lines = (ROOT / "steps" / "Cargo.toml").read_text().splitlines()
    members = lines[next(i for i, l in enumerate(lines) if l.startswith("members")) + 1:]
    members = members[:members.index("]")]
    assert members[0].strip() == '"[0-9][0-9]-*",', members
    assert all(MEMBER_CHAPTER.match(m) for m in members[1:]), members
    # the fault this guards against: a member without its chapter stays in chapter 1's manifest
    cut = members_for(lines, "01")
    assert '"build-support",' not in " ".join(cut) and '"[0-9][0-9]-*",' in " ".join(cut)


# Chapter 1, and chapter 11, whose module declares its own buffer functions on raw pyo3-ffi.
@pytest.mark.parametrize("nn, package", [("01", "step01-shared-library"),
                                         ("11", "step11-hot-loop")])
def test_a_chapter_rebuilt_from_its_pages_builds(nn, package, tmp_path):
    write_pages(nn, tmp_path)
    # The reader's own target folder, kept under target/ between runs (offline: the registry's
    # crates are already on this machine), with the book's build of those crates in it. The
    # environment is the book's build's (pyo3's build script reruns when PYO3_PYTHON changes), and
    # so is the profile: steps/Cargo.toml's [profile.dev] (`debug = false`), lines no page shows,
    # decides nothing about whether the shown files build, but cargo reuses no crate built with
    # another profile.
    target = ROOT / "target" / f"rebuild-{nn}"
    env = dict(config.python_env(), CARGO_TARGET_DIR=str(target), **book_profile())
    seed_registry_crates(tmp_path / "steps", ROOT / "target" / "debug", target / "debug", env)
    proc = subprocess.run(["cargo", "build", "--offline", "-p", package], cwd=tmp_path / "steps",
                          env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr
    # The chapter's own crate comes from the pages' files, written just now: cargo compiles it.
    assert f"Compiling {package} v" in proc.stderr, proc.stderr


def write_pages(nn: str, folder: Path) -> None:
    """Writes each file as chapters 1..nn show it into `folder` (steps/ and all)."""
    for src, lines in shown_files(nn).items():
        rel = src.relative_to(ROOT)
        if rel == Path("steps/Cargo.toml"):
            lines = members_for(lines, nn)
        dest = folder / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text("\n".join(lines) + "\n")


def test_the_seed_holds_only_the_registrys_crates(tmp_path):
    """A seed that brought the chapter's own crate along could let cargo skip compiling it."""
    write_pages("01", tmp_path / "pages")
    built, target = tmp_path / "built", tmp_path / "target"
    made = [".fingerprint/cbindgen-0123456789abcdef/lib-cbindgen",
            "deps/libcbindgen-0123456789abcdef.rlib", "build/cbindgen-0123456789abcdef/output",
            ".fingerprint/step01-shared-library-0123456789abcdef/lib-sum",
            "deps/libsum-0123456789abcdef.so", "deps/sum-0123456789abcdef.d",
            "build/step01-shared-library-0123456789abcdef/output",
            ".fingerprint/cbindgen-helper-0123456789abcdef/lib"]  # not a crate of the registry
    for rel in made:
        (built / rel).parent.mkdir(parents=True, exist_ok=True)
        (built / rel).write_text("")
    seed_registry_crates(tmp_path / "pages" / "steps", built, target, dict(config.python_env()))
    seeded = sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file())
    assert seeded == sorted(made[:3]), seeded


def book_profile() -> dict[str, str]:
    """steps/Cargo.toml's [profile.dev], as the variables that set it: CARGO_PROFILE_DEV_DEBUG."""
    manifest = tomllib.loads((ROOT / "steps" / "Cargo.toml").read_text())
    return {f"CARGO_PROFILE_DEV_{key.upper().replace('-', '_')}": str(value).lower()
            for key, value in manifest.get("profile", {}).get("dev", {}).items()}


def seed_registry_crates(workspace: Path, built: Path, target: Path, env: dict) -> None:
    """Copies into `target` what the book's build (`built`, cargo's debug folder) holds of the
    crates that `workspace` takes from the registry, and nothing of its own crates: their
    fingerprints, build scripts' outputs and libraries, each found by its crate's name and hash
    (pyo3-ffi-0a1b2c..., libpyo3_ffi-0a1b2c....rlib). What is already there stays."""
    proc = subprocess.run(["cargo", "metadata", "--offline", "--format-version", "1"],
                          cwd=workspace, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    names = {p["name"] for p in json.loads(proc.stdout)["packages"] if p["source"]}
    names |= {n.replace("-", "_") for n in names}
    from_registry = re.compile(rf"^(lib)?({'|'.join(map(re.escape, names))})-[0-9a-f]{{16}}(\.|$)")
    for folder in [".fingerprint", "build", "deps"]:
        if not (built / folder).is_dir():
            continue
        for entry in (built / folder).iterdir():
            dest = target / folder / entry.name
            if not from_registry.match(entry.name) or dest.exists():
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            if entry.is_dir():
                shutil.copytree(entry, dest, symlinks=True)
            else:
                shutil.copy2(entry, dest)
