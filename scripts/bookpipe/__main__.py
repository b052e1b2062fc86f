"""`python -S scripts/bookpipe ARGS` (what scripts/book runs) or `python -m bookpipe ARGS`."""

import os
import sys
from pathlib import Path

if __package__ in (None, ""):  # started as a folder: its parent holds the package
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

# The package's compiled modules are kept under the build's target folder, never in the tree
# (compiling them at each start would cost about 0.1 s, and the pages start it once per output
# that is not ready). PYTHONDONTWRITEBYTECODE, which the Justfile sets for the steps, is for
# what the commands run, not for the runner.
_target = os.environ.get("BOOK_TARGET") or str(Path(__file__).resolve().parent.parent.parent / "target")
sys.pycache_prefix = os.path.join(_target, "book-work", "pycache")
sys.dont_write_bytecode = False

from bookpipe.cli import main  # noqa: E402

sys.exit(main(sys.argv[1:]))
