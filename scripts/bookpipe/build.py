"""Building and staging: one cargo build of the workspace, each step's artifacts copied to
target/book-work/stage/NN, and content (never a timestamp) deciding what is stale."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from .config import STAGE, STEPS, WORK, Fail, python_env
from .steps import Step


def cargo_build(profile: str | None = None, packages: list[str] | None = None
                ) -> tuple[dict, dict, bool]:
    """One `cargo build` of the whole workspace (or of `packages` in `profile`); returns
    (artifacts, out_dirs, ok) by package name. It keeps going past a crate that fails, so that
    every step that can be built is (`just serve` shows the others' failure on their pages)."""
    import subprocess
    which = ["--profile", profile, *(f"--package={p}" for p in packages or [])] if profile \
        else ["--workspace"]
    proc = subprocess.Popen(
        ["cargo", "build", *which, "--keep-going", "--message-format=json-render-diagnostics"],
        cwd=STEPS, env=python_env(), stdout=subprocess.PIPE, text=True)
    artifacts: dict[str, dict[str, str]] = {}
    out_dirs: dict[str, str] = {}
    assert proc.stdout is not None
    for line in proc.stdout:
        msg = json.loads(line)
        reason = msg.get("reason")
        if reason == "compiler-artifact":
            pkg = package_name(msg["package_id"])
            if not msg.get("fresh", True):
                COMPILED.add(pkg)
            for kind, filename in zip(msg["target"]["crate_types"], msg["filenames"]):
                artifacts.setdefault(pkg, {})[kind] = filename
            if msg.get("executable"):
                artifacts.setdefault(pkg, {})["bin:" + msg["target"]["name"]] = msg["executable"]
        elif reason == "build-script-executed":
            out_dirs[package_name(msg["package_id"])] = msg["out_dir"]
    return artifacts, out_dirs, proc.wait() == 0


# The packages that stage()'s cargo builds compiled (not fresh), written to COMPILED_RECORD: the
# version matrix holds the Rust to being built once per toolchain, so that for another CPython only
# what reads the interpreter compiles again.
COMPILED: set[str] = set()
COMPILED_RECORD = WORK / "compiled-packages.json"


def package_name(package_id: str) -> str:
    # "path+file:///…/01-shared-library#step01-shared-library@0.1.0", or "…/name#0.1.0"
    # when the folder and the package share a name, or the old "name 0.1.0 (path+file://…)".
    if " " in package_id:
        return package_id.split(" ")[0]
    base, _, frag = package_id.partition("#")
    if "@" in frag:
        return frag.split("@")[0]
    return base.rstrip("/").rsplit("/", 1)[-1]


def stage(steps: list[Step], keep_going: bool = False) -> dict[str, str]:
    """Copy what each step's commands need into target/book-work/stage/NN, with a manifest of
    hashes. A step that cannot be staged (its crate did not build) raises Fail, or with
    `keep_going` is left unstaged and named in the result: {NN: why}."""
    import shutil
    digest = sync_sources()
    COMPILED.clear()
    artifacts, out_dirs, ok = cargo_build()
    failed: dict[str, str] = {}
    for step in steps:
        built = (artifacts, out_dirs)
        step_ok = ok
        if step.profile:
            # Its own build of the packages it stages (chapter 7 measures release builds): one
            # build per step, so that no other package's features unify into its crates.
            *built, step_ok = cargo_build(step.profile, built_packages(step))
        dest = STAGE / step.nn
        tmp = STAGE / f"{step.nn}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        manifest = {}
        try:
            for name, source in sorted(step.stage_spec.items()):
                # "?SOURCE": staged only if the build made it (e.g. a module that needs a
                # toolchain the machine may lack); the commands must cope with its absence.
                optional = source.startswith("?")
                src = resolve_source(step, source.removeprefix("?"), *built, optional)
                if src is None:
                    continue
                (tmp / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, tmp / name)
                manifest[name] = sha256_file(tmp / name)
        except Fail as e:
            why = f"{e}" + ("" if step_ok else " (cargo build failed: its messages are above)")
            shutil.rmtree(tmp, ignore_errors=True)
            shutil.rmtree(dest, ignore_errors=True)
            (STAGE / f"{step.nn}.stamp").unlink(missing_ok=True)
            if not keep_going:
                raise Fail(why) from None
            failed[step.nn] = why
            continue
        (tmp / ".manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True))
        shutil.rmtree(dest, ignore_errors=True)
        tmp.rename(dest)
        (STAGE / f"{step.nn}.stamp").write_text(digest)
    COMPILED_RECORD.write_text(json.dumps(sorted(COMPILED), indent=0))
    return failed


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


def source_files() -> list[Path]:
    """Every file under steps/ that a build or a command can read (not expectations, not caches)."""
    files = []
    for dirpath, dirnames, filenames in os.walk(STEPS, followlinks=True):
        dirnames[:] = sorted(d for d in dirnames
                             if d not in ("expected", "__pycache__", ".pytest_cache", "target"))
        files += [Path(dirpath, f) for f in sorted(filenames)]
    return files


def sync_sources() -> str:
    """Make content, not modification times, decide what is stale; returns the sources' digest.

    Cargo (and the `rerun-if-changed` of build scripts) rebuilds only a file newer than its last
    build, so an edit saved with an old time (`touch -d`, an archive, a copy that keeps times)
    would leave the old build in place. Each file's hash is recorded, in cargo's target folder,
    when the pipeline hands the tree to cargo; a file whose content differs from the record gets a
    fresh modification time first, which cargo sees.

    Only a target folder that holds builds (cargo's fingerprints) can be stale: for an empty one
    (a new BOOK_TARGET, as the version matrix of `just test` makes) no file is touched, since every
    touch would make the other target folders of this tree rebuild it. A built folder without a
    record (built by cargo alone, or its record lost) gets a fresh time on every file whose
    modification time was set back, i.e. is older than its last change (its ctime, which nothing
    sets back): only such a file can hold an edit that cargo has not seen."""
    import time
    # The record belongs with cargo's target folder, not with this tree: it says what that
    # folder's builds were made from, whichever copy of the sources made them. (Cargo runs in
    # steps/, where a relative CARGO_TARGET_DIR starts.)
    target = STEPS / python_env()["CARGO_TARGET_DIR"]
    record_file = target / "book-sources.json"
    try:
        record = json.loads(record_file.read_text())
    except (OSError, ValueError):
        record = None
    now = time.time()
    hashes = source_hashes()
    if has_fingerprints(target):
        for rel, digest in hashes.items():
            if record is not None:
                stale = record.get(rel) != digest
            else:
                st = os.stat(STEPS / rel)
                # A second's slack: a copy or checkout sets the mode just after writing a file.
                stale = st.st_ctime_ns - st.st_mtime_ns > 1_000_000_000
            if stale:
                os.utime(STEPS / rel, (now, now))
    record_file.parent.mkdir(parents=True, exist_ok=True)
    record_file.write_text(json.dumps(hashes, indent=0, sort_keys=True))
    return digest_of(hashes)


def has_fingerprints(target: Path) -> bool:
    """Whether cargo has built anything in `target`: a profile's .fingerprint folder (debug/,
    release/, or under a target triple's folder) holds an entry."""
    for fingerprints in [*target.glob("*/.fingerprint"), *target.glob("*/*/.fingerprint")]:
        if any(fingerprints.iterdir()):
            return True
    return False


def source_hashes() -> dict[str, str]:
    """Each source's hash, by its path relative to steps/."""
    return {f.relative_to(STEPS).as_posix(): sha256_file(f) for f in source_files()}


_HASHES: dict[str, str] | None = None


def step_sources_digest(step: Step) -> str:
    """The digest of what a step's commands can read of steps/: its own folder and everything
    outside the chapters' folders (the workspace's files, build-support), symlinks followed."""
    global _HASHES
    if _HASHES is None:
        _HASHES = source_hashes()
    import re
    own = step.folder.name + "/"
    return digest_of({rel: h for rel, h in _HASHES.items()
                      if rel.startswith(own) or not re.match(r"\d\d-", rel)})


def digest_of(hashes: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(hashes, sort_keys=True).encode()).hexdigest()


def sources_digest() -> str:
    return digest_of(source_hashes())


def ensure_staged(step: Step) -> dict[str, str]:
    """The manifest of the step's staged files, rebuilding first when any source changed.

    `just build` stages everything before mdbook runs; this catches edits made while
    `mdbook serve` is running (book.toml watches steps/ too). Staleness is decided by content:
    the stamp holds the digest of every source the stage was built from."""
    stamp = STAGE / f"{step.nn}.stamp"
    if not stamp.exists() or stamp.read_text() != sources_digest():
        stage([step])
    return json.loads((STAGE / step.nn / ".manifest.json").read_text())
