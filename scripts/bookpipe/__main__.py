"""`python -S scripts/bookpipe ARGS` (what scripts/book runs) or `python -m bookpipe ARGS`."""

import sys
from pathlib import Path

if __package__ in (None, ""):  # started as a folder: its parent holds the package
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bookpipe.cli import main  # noqa: E402

sys.exit(main(sys.argv[1:]))
