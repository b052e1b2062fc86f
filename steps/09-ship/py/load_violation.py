"""Import the module that breaks the stable ABI, and say what happened."""

import sys

# ANCHOR: all
try:
    import violation
except ImportError as e:
    print(f"CPython {sys.version_info[0]}.{sys.version_info[1]}: ImportError: {e}")
else:
    print(f"CPython {sys.version_info[0]}.{sys.version_info[1]}: imported {violation.__name__}")
# ANCHOR_END: all
