# ANCHOR: all
import sys
import threading
import time

import foo


class SlowCleanup:
    """Stands for any clean-up that takes a while once finalization has begun."""

    def __del__(self, sleep=time.sleep, finalizing=sys.is_finalizing):
        sleep(0.6)
        print("cleanup done; finalizing:", finalizing(), flush=True)


cleanup = SlowCleanup()
# Releases the GIL for 0.3 s, then asks for it back: in the middle of the clean-up.
threading.Thread(target=foo.sleep, args=(300,), daemon=True).start()
print("the script ends here", flush=True)
# ANCHOR_END: all
