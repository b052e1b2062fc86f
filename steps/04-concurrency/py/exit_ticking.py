# ANCHOR: all
import foo

foo.tick(60, 1000)  # a minute of ticks
print("the script ends here", flush=True)
# ANCHOR_END: all
