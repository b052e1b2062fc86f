"""A reader rebuilds chapter N from what chapters 1 to N show, and from nothing else: each file as
its listings show it (the lines of every include of it, in the file's order, without the anchor
comments), written into a folder that holds nothing more; the commands of chapters 1 to N that
make files in the workspace (chapter 3's links: anchor `files` of its by-hand.sh); then the
chapter's gathering commands (`steps/NN-*/by-hand.sh`, as its page shows them), typed in that
folder under the book's Python.
They build the workspace the pages describe, whose `members` are the lines chapters 1 to N add,
and must gather the very files the book's own commands ran with (by name: a listing leaves out its
anchor comments, so a copied script's bytes differ). Every chapter (each book/chNN-*.md: 1 to 13).
(tests/test_pages_carry_every_file.py checks that every needed line is shown; this checks that
what is shown builds, with no file of a later chapter, and that its commands find what they copy.)

What is not the pages': the registry's crates. The reader's target folder starts with the book's
own build of them, where it is the same build (same features, same profile), and the workspace's
`Cargo.lock` is the book's, so that the same versions are chosen. Every crate of the pages
compiles in that folder.

The chapters share one folder and one target folder, kept under target/rebuild between runs (the
crates' metadata hashes include the folder's path, so only a fixed folder lets cargo reuse a crate
an earlier chapter compiled). Before a chapter, the folder is brought to exactly that chapter's
files: files of no page so far are deleted, and a file is rewritten only when its text changed, so
that cargo's fingerprints (which compare modification times) stay honest. What the earlier builds
left in the target folder's top (the libraries cargo copies up from deps/) is deleted, so that a
`cp ../../debug/libX.so` finds only what this chapter's build made or re-linked."""

import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from support import ROOT, STAGE
from test_pages_carry_every_file import ANCHOR_LINE, anchor_range, chapters, covered_lines

sys.path.insert(0, str(ROOT / "scripts"))
from bookpipe import by_hand, config  # noqa: E402

REBUILD = ROOT / "target" / "rebuild"
FOLDER = REBUILD / "pages"  # the reader's folder: steps/, and target/ (steps/.cargo/config.toml)
# Files cargo writes in the reader's folder, kept between chapters.
GENERATED = {Path("target"), Path("steps/Cargo.lock")}


def shown_files(nn: str) -> dict[Path, list[str]]:
    """Each file that chapters 1..nn include -> its lines as the listings show them: the lines
    the include check counts as shown (covered_lines), without the anchor comments."""
    files = {}
    for src, numbers in covered_lines(nn).items():
        lines = src.read_text().splitlines()
        files[src] = [lines[i] for i in sorted(numbers) if not ANCHOR_LINE.search(lines[i])]
    return files


def write_pages(nn: str, folder: Path) -> None:
    """Brings `folder` to exactly the files chapters 1..nn show (steps/ and all), with what cargo
    generated (GENERATED) kept. A file whose text is already right is left alone."""
    wanted = {}
    for src, lines in shown_files(nn).items():
        wanted[src.relative_to(ROOT)] = "\n".join(lines) + "\n"
    for top, dirs, names in os.walk(folder, topdown=False):
        for name in names + [d for d in dirs if (Path(top) / d).is_symlink()]:
            path = Path(top) / name
            rel = path.relative_to(folder)
            if rel not in wanted and not any(rel == g or g in rel.parents for g in GENERATED):
                path.unlink()
        for name in dirs:
            path = Path(top) / name
            if path.is_dir() and not path.is_symlink() and not any(path.iterdir()):
                path.rmdir()
    for rel, text in wanted.items():
        dest = folder / rel
        if dest.is_file() and not dest.is_symlink() and dest.read_text() == text:
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(text)


def reader_env() -> dict[str, str]:
    """The book's Python first on PATH and as PYO3_PYTHON (config.python_env), offline, and no
    target folder of the book's: the reader's steps/.cargo/config.toml decides where cargo builds."""
    env = config.python_env()
    env.pop("CARGO_TARGET_DIR", None)
    env["CARGO_NET_OFFLINE"] = "true"
    return env


def rebuild(nn: str) -> subprocess.CompletedProcess:
    """Chapter nn rebuilt in FOLDER: its files written, the target folder's top cleared, the
    registry's crates seeded, its by-hand.sh run with `sh -e` (a reader stops at the first error).
    One rebuild at a time: two test runs at once would rewrite each other's folder."""
    REBUILD.mkdir(parents=True, exist_ok=True)
    with open(REBUILD / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _rebuild(nn)


def _rebuild(nn: str) -> subprocess.CompletedProcess:
    write_pages(nn, FOLDER)
    target = FOLDER / "target"
    for profile in ["debug", "release"]:
        for made in (target / profile).glob("*") if (target / profile).is_dir() else []:
            if made.is_file() and re.search(r"\.(so|a|d|rlib)$|^[^.]+$", made.name):
                made.unlink()
    shutil.rmtree(target / "run" / nn, ignore_errors=True)
    shutil.copy2(ROOT / "steps" / "Cargo.lock", FOLDER / "steps" / "Cargo.lock")
    env = reader_env()
    for profile in ["debug", "release"]:
        seed_registry_crates(FOLDER / "steps", ROOT / "target" / profile, target / profile, env)
    # The commands of chapters 1..nn that make files in the workspace (anchor `files` of a
    # by-hand.sh: chapter 3's links), as their pages show them: a reader typed them once, and
    # every later chapter builds with what they made.
    for k in [c for c in chapters() if c <= nn]:
        made = workspace_commands(k, nn)
        if made:
            proc = subprocess.run(["sh", "-e", "-c", made], cwd=FOLDER, env=env,
                                  capture_output=True, text=True, timeout=60)
            if proc.returncode != 0:
                return proc
    script = next((FOLDER / "steps").glob(f"{nn}-*/by-hand.sh"))
    return subprocess.run(["sh", "-e", str(script.relative_to(FOLDER))], cwd=FOLDER, env=env,
                          capture_output=True, text=True, timeout=1800)


def workspace_commands(k: str, nn: str) -> str:
    """The lines of chapter k's by-hand.sh between `ANCHOR: files` and its end that chapters
    1..nn show ("" when it has none)."""
    script = next((ROOT / "steps").glob(f"{k}-*/by-hand.sh")).resolve()
    lines = script.read_text().splitlines()
    if not any(re.search(r"ANCHOR:\s*files\b", line) for line in lines):
        return ""
    shown = covered_lines(nn).get(script, set())
    return "\n".join(lines[i] for i in anchor_range(lines, "files") if i in shown) + "\n"


def gathered_names(nn: str) -> set[str]:
    return set(by_hand.gathered_files(FOLDER / "target" / "run" / nn))


def staged_names(nn: str) -> set[str]:
    manifest = STAGE / nn / ".manifest.json"
    if not manifest.exists():
        pytest.fail(f"{manifest} is missing: run `just build` first")
    return set(json.loads(manifest.read_text()))


TIMES: dict[str, float] = {}


@pytest.mark.parametrize("nn", chapters())
def test_a_chapter_rebuilt_from_its_pages_gathers_what_the_book_ran(nn):
    start = time.monotonic()
    proc = rebuild(nn)
    TIMES[nn] = time.monotonic() - start
    compiled = re.findall(r"Compiling (\S+)", proc.stderr)
    print(f"chapter {nn} rebuilt from its pages in {TIMES[nn]:.1f} s, compiling {len(compiled)} "
          f"crates: {' '.join(compiled)}")
    assert proc.returncode == 0, (f"chapter {nn}'s by-hand.sh, in a folder of chapters 01..{nn}'s "
                                  f"files, failed:\n{proc.stdout[-3000:]}{proc.stderr[-6000:]}")
    gathered, staged = gathered_names(nn), staged_names(nn)
    assert gathered == staged, (f"chapter {nn} rebuilt from its pages gathers other files than "
                                f"the book's commands ran with: only rebuilt "
                                f"{sorted(gathered - staged)}, only staged {sorted(staged - gathered)}")


# Fault injection: each of these must turn the rebuild red. They run after the chapters, in the
# same folder, so cargo has little to compile; each rebuilds chapter 03 (its crates are small).
def _read_text_with(page: Path, text: str):
    original = Path.read_text

    def read_text(self, *args, **kwargs):
        return text if self == page else original(self, *args, **kwargs)
    return read_text


def test_a_chapter_that_needs_a_later_chapters_file_is_red(monkeypatch):
    """Chapter 3's gathering copied chapter 5's src/lib.rs once: a reader of chapter 3 has none."""
    script = ROOT / "steps" / "03-rust-extension" / "by-hand.sh"
    text = script.read_text()
    good = "cp ../../../steps/03-rust-extension/wrong-way/src/lib.rs wrong-way/src/"
    assert good in text
    monkeypatch.setattr(Path, "read_text", _read_text_with(
        script, text.replace(good, "cp ../../../steps/05-hard-way/src/lib.rs wrong-way/src/")))
    proc = rebuild("03")
    assert proc.returncode != 0 and "05-hard-way/src/lib.rs" in proc.stderr, proc.stderr


def test_a_page_that_drops_an_include_is_red(monkeypatch):
    """Chapter 3's page without the lines it adds to the workspace's members: cargo builds the
    workspace without the stages, and the gathering finds no stage's library (nor one left over
    from an earlier build)."""
    page = ROOT / "book" / "ch03-rust-extension.md"
    text = page.read_text()
    include = "{{#include ../steps/Cargo.toml:members-03}}"
    assert include in text
    monkeypatch.setattr(Path, "read_text", _read_text_with(page, text.replace(include, "")))
    proc = rebuild("03")
    assert proc.returncode != 0 and "libfoo03" in proc.stderr, proc.stderr


def test_a_workspace_member_of_a_later_chapter_is_red(monkeypatch):
    """A member listed under the wrong chapter (chapter 5's no-ffi among chapter 2's lines):
    chapter 2's reader has no such folder, and cargo refuses the workspace."""
    manifest = ROOT / "steps" / "Cargo.toml"
    text = manifest.read_text()
    line = '    "02-c-extension",\n'
    assert line in text
    monkeypatch.setattr(Path, "read_text", _read_text_with(
        manifest, text.replace(line, line + '    "05-hard-way/no-ffi",\n')))
    proc = rebuild("02")
    assert proc.returncode != 0 and "no-ffi" in proc.stderr, proc.stderr


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
    seed_registry_crates(tmp_path / "pages" / "steps", built, target, reader_env())
    seeded = sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file())
    assert seeded == sorted(made[:3]), seeded


def test_the_folder_holds_exactly_the_chapters_files(tmp_path):
    """A file of a later chapter left in the folder would let an earlier chapter use it."""
    write_pages("05", tmp_path)
    later = tmp_path / "steps" / "05-hard-way" / "src" / "lib.rs"
    assert later.is_file()
    (tmp_path / "target").mkdir()
    (tmp_path / "target" / "kept").write_text("")
    write_pages("03", tmp_path)
    assert not later.exists() and (tmp_path / "target" / "kept").exists()
    assert not (tmp_path / "steps" / "05-hard-way").exists()


def seed_registry_crates(workspace: Path, built: Path, target: Path, env: dict) -> None:
    """Copies into `target` what the book's build (`built`, one of cargo's profile folders) holds
    of the crates that `workspace` takes from the registry, and nothing of its own crates: their
    fingerprints, build scripts' outputs and libraries, each found by its crate's name and hash
    (pyo3-ffi-0a1b2c..., libpyo3_ffi-0a1b2c....rlib). What is already there stays."""
    proc = subprocess.run(["cargo", "metadata", "--offline", "--format-version", "1"],
                          cwd=workspace, env=env, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        return  # a workspace cargo refuses: the chapter's own build says why, and fails
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
