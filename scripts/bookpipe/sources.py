"""The book's sources as one archive beside the rendered pages, which the introduction links to:
the repository has no public address, so the rendered book carries what it was built from.

`scripts/book prepare` (the first step of `just build` and of `just serve`) writes it into book/,
the pages' own folder, which git ignores it in: mdbook copies every file of that folder but the
pages into the rendered book, on every build and on every rebuild of `mdbook serve` (which first
empties its output folder, so an archive written there would be gone after the first edit). mdbook
serve's watcher skips what git ignores, so writing it starts no rebuild. While `just serve` runs, an
edit under steps/ prepares the book again and rewrites it; an edit of a page alone does not.

The archive holds the files git tracks, and the new ones it would (not ignored), as the working
tree holds them (an edit not yet committed included, so that it matches the pages beside it),
under one top folder. Outside a git checkout (a reader's unpacked archive) it holds every file but
what is built or installed."""

from __future__ import annotations

import os
from pathlib import Path

from .config import ROOT, Fail

ARCHIVE = "python-modules-in-rust.tar.gz"
# The archive's temporary file while it is written (ignored by git too, see .gitignore).
TEMPORARY = (".sources-", ".tmp")
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
    # A file deleted but not yet committed is left out, as the working tree has it; so is the
    # archive itself (and its temporary file), which book/ holds once it is written.
    return sorted(n for n in names if os.path.lexists(ROOT / n) and n != f"book/{ARCHIVE}"
                  and not (n.startswith(f"book/{TEMPORARY[0]}") and n.endswith(TEMPORARY[1])))


def write_archive(folder: Path) -> Path:
    """Write ARCHIVE into `folder` (atomically: the version matrix builds in parallel) and return
    its path. Links are kept as links (steps/ holds a few)."""
    import tarfile
    import tempfile
    if not folder.is_dir():
        raise Fail(f"{folder} is not a folder: render the book first (`just build`)")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=TEMPORARY[0], suffix=TEMPORARY[1])
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


def write_served() -> Path:
    """Write the archive into book/, from where mdbook copies it beside the pages."""
    from .config import BOOK_SRC
    return write_archive(BOOK_SRC)
