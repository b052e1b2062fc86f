"""The book's sources as one archive beside the rendered pages, which the introduction links to:
the repository has no public address, so the rendered book carries what it was built from.

The archive holds the files git tracks, and the new ones it would (not ignored), as the working
tree holds them (an edit not yet committed included, so that it matches the pages beside it),
under one top folder. Outside a git checkout (a reader's unpacked archive) it holds every file but
what is built or installed."""

from __future__ import annotations

import os
from pathlib import Path

from .config import ROOT, Fail

ARCHIVE = "python-modules-in-rust.tar.gz"
TOP = "python-modules-in-rust"
# What a folder holds that is not a source, when there is no git to ask.
NOT_SOURCES = {".git", "target", ".venv", "node_modules", "__pycache__", ".pytest_cache",
               ".hypothesis"}
# What the introduction promises a reader finds in it.
MUST_HOLD = ("Justfile", "README.md", "scripts/setup.sh", "steps/Cargo.toml")


def archived_files() -> list[str]:
    """The repository's files, relative to its root, sorted."""
    import subprocess
    try:
        out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                              "--exclude-standard"], cwd=ROOT, check=True,
                             capture_output=True).stdout
        names = [n for n in out.decode().split("\0") if n]
    except (OSError, subprocess.CalledProcessError):
        names = []
        for dirpath, dirnames, filenames in os.walk(ROOT):
            dirnames[:] = sorted(d for d in dirnames if d not in NOT_SOURCES)
            names += [os.path.relpath(os.path.join(dirpath, f), ROOT) for f in filenames]
    # A file deleted but not yet committed is left out, as the working tree has it.
    return sorted(n for n in names if os.path.lexists(ROOT / n))


def write_archive(folder: Path) -> Path:
    """Write ARCHIVE into `folder` (atomically: the version matrix builds in parallel) and return
    its path. Links are kept as links (steps/ holds a few)."""
    import tarfile
    import tempfile
    if not folder.is_dir():
        raise Fail(f"{folder} is not a folder: render the book first (`just build`)")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".sources-", suffix=".tmp")
    os.close(fd)
    try:
        with tarfile.open(tmp, "w:gz") as tar:
            for name in archived_files():
                tar.add(ROOT / name, arcname=f"{TOP}/{name}", recursive=False)
        os.chmod(tmp, 0o644)
        os.replace(tmp, folder / ARCHIVE)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return folder / ARCHIVE
