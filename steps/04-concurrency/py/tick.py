# ANCHOR: all
import foo

foo.tick(3, 100)  # three ticks, one every 100 ms
print("tick() has returned; foo's threads running:", foo.threads(), flush=True)
foo.join()
print("join() has returned; foo's threads running:", foo.threads(), flush=True)
# ANCHOR_END: all
