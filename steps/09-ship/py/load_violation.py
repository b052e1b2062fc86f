"""Import the module that breaks the stable ABI, and say what happened."""

try:
    import violation
except ImportError as e:
    print(f"ImportError: {e}")
else:
    print(f"imported {violation.__name__}")
