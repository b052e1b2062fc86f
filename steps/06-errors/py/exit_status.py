# ANCHOR: all
"""Run a command and say how it ended, in the same words whatever shell you use:

    python3 exit_status.py python3 add.py
"""

import signal
import subprocess
import sys

status = subprocess.run(sys.argv[1:]).returncode
if status < 0:
    # Killed by a signal: a shell would report 128 + its number as the exit status.
    name = signal.Signals(-status).name
    print(f"killed by signal {-status} ({name}); a shell's exit status: {128 - status}")
else:
    print(f"exit status {status}")
# ANCHOR_END: all
