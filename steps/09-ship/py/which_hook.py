"""Import the module with two entry points, and say which one CPython called."""

import hooks

print(f"{hooks.__name__}: {hooks.__doc__}")
print(f"CPython called {hooks.entry_point()}")
