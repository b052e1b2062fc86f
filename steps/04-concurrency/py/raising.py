import foo


def picky(i):
    if i == 2:
        raise ValueError(f"no call number {i}, please")
    print(f"callback {i}", flush=True)


foo.every(10, 5, picky)
foo.join()
print("still here; foo's threads running:", foo.threads())
