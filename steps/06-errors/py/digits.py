# ANCHOR: all
import sys

import errors

print("limit:", sys.get_int_max_str_digits())
print(errors.parse_setting("big = " + "9" * 4300)[1] % 1000)  # 4300 digits: accepted
try:
    errors.parse_setting("big = " + "9" * 4301)
except errors.ParseError as e:
    print(f"{type(e).__name__}: {e}")
    print(f"  caused by {type(e.__cause__).__name__}: {e.__cause__}")
sys.set_int_max_str_digits(0)  # 0: no limit, for this process
print(errors.parse_setting("big = " + "9" * 4301)[1] % 1000)
# ANCHOR_END: all
