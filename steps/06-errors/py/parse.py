import errors

print(errors.parse_setting("workers = 8"))
try:
    errors.parse_setting("workers")
except ValueError as e:  # a ParseError is a ValueError
    print(f"{type(e).__name__}: {e}")
errors.parse_setting("workers = eight")
