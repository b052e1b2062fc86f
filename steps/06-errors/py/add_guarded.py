import broken

print(broken.add_guarded(2, 40))
try:
    broken.add_guarded(2**63 - 1, 1)
except Exception:
    print("not caught here: PanicException is not an Exception")
finally:
    print("but the interpreter is alive, and finally blocks run")
