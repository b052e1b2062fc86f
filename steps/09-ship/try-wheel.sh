#!/bin/sh
# Install a wheel into a new virtual environment outside the repository, and import foo from it.
# Usage: sh try-wheel.sh WHEEL [PYTHON]   (PYTHON defaults to python3)
set -eu
wheel=$(realpath "$1")
python=${2:-python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$python" -m venv "$tmp/venv"
"$tmp/venv/bin/python" -m pip install --no-index --disable-pip-version-check "$wheel"
# From an empty folder, so that foo can only come from the environment.
cd "$tmp"
"$tmp/venv/bin/python" -c 'import foo; print(foo.sum(2, 40)); print(foo.foo.__file__)'
