"""Which CPython builds an installer lets this wheel onto: packaging's tag logic, the library that
pip vendors, asked for each interpreter in turn (python3 tags.py WHEEL)."""

import sys

import packaging
from packaging.tags import cpython_tags
from packaging.utils import parse_wheel_filename

# (version, ABI tag): a GIL-enabled build has cp3XX, a free-threaded build cp3XXt.
INTERPRETERS = [
    ((3, 9), "cp39"),
    ((3, 10), "cp310"),
    ((3, 13), "cp313"),
    ((3, 13), "cp313t"),
    ((3, 14), "cp314t"),
    ((3, 15), "cp315"),
    ((3, 15), "cp315t"),
]

name, version, build, wheel_tags = parse_wheel_filename(sys.argv[1].rsplit("/", 1)[-1])
platforms = sorted({t.platform for t in wheel_tags})
print(f"packaging {packaging.__version__}; the wheel's tags: {', '.join(map(str, wheel_tags))}")
for (major, minor), abi in INTERPRETERS:
    accepted = list(cpython_tags((major, minor), abis=[abi], platforms=platforms))
    match = next((t for t in accepted if t in wheel_tags), None)
    stable = sorted({t.abi for t in accepted if t.abi.startswith("abi3")})
    verdict = f"installs, as {match.interpreter}-{match.abi}" if match else "refused"
    print(f"{abi:>7}: {verdict:<28} (stable ABI tags it accepts: {', '.join(stable) or 'none'})")
