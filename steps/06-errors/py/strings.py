# ANCHOR: all
import errors

print(errors.encode("héllo"))
print(errors.shout("straße"))

name = b"caf\xe9".decode("utf-8", "surrogateescape")  # how os.listdir() shows a Latin-1 name
print(repr(name))
try:
    errors.encode(name)
except UnicodeEncodeError as e:
    print(f"UnicodeEncodeError: {e}")
# ANCHOR_END: all
