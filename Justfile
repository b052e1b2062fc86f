# The book's front door. `just --list` explains each recipe; CI runs `just test`.
# Run scripts/setup.sh once first (the README's two commands do).

set shell := ["bash", "-euo", "pipefail", "-c"]

# The book's interpreter is .venv's, made by scripts/setup.sh from the python3 on PATH. The test of
# the version matrix builds the book again with another one: BOOK_VENV names its environment and
# BOOK_TARGET the folder where everything built with it goes (both are read, never exported).
# ANCHOR: env
venv := env("BOOK_VENV", justfile_directory() / ".venv")
target := env("BOOK_TARGET", justfile_directory() / "target")

# The book's interpreter first on PATH (then the project's .venv, which also holds the pinned Go):
# commands, tests and cargo builds all use it.
export PATH := venv / "bin" + ":" + justfile_directory() / ".venv/bin:" + env_var("PATH")
export PYO3_PYTHON := venv / "bin/python"
export PYTHONDONTWRITEBYTECODE := "1"
# ANCHOR_END: env

book := justfile_directory() / "scripts/book"

# List the recipes
default:
    @just --list --unsorted

# Install the pinned tools and the Python environment (checks versions; quick when all is there)
setup:
    scripts/setup.sh

# Install or check what only the tests use: gdb, Chromium and the browser test's npm packages,
# CPython 3.14 and 3.15 and the debug builds (`just test` runs it first)
test-setup:
    scripts/setup.sh --tests

# Build the steps once, render the book with its sources' archive, fail if any output drifted
build:
    token=$({{book}} prepare) && \
    BOOK_READY_TOKEN="$token" mdbook build --dest-dir "{{target}}/book" 2>&1 \
        | { grep -v '^\s*$' || true; } | tee "{{target}}/book-work/mdbook.log"
    {{book}} check

# Serve the book at http://localhost:3000 with live reload, whatever fails: a failing output
# shows its report on its page, and one summary of the failures is printed first (`just build`
# and `just test` still fail on them)
serve port="3000":
    token=$({{book}} prepare) && {{book}} summary && \
    BOOK_READY_TOKEN="$token" mdbook serve --port {{port}} --dest-dir "{{target}}/book"

# ANCHOR: step
# Build chapter NN's step and run its commands, printing each with its output (e.g. `just step 03`)
step NN:
    {{book}} step {{NN}}
# ANCHOR_END: step

# Rewrite the expectations of chapter NN (or of all chapters) from a fresh run, and show the diff
bless *NN:
    {{book}} bless {{NN}}

# List every chapter's commands
commands:
    {{book}} list

# (The quick loop while editing, within 3 minutes of an edit; `just test` stays the whole proof.
# tests/test_drift.py turns each check of the build red with its faults, in this process.)

# Build, lint, the crates' unit tests, and every check's faults in process: the quick loop
check: build lint
    cd steps && cargo test --workspace --quiet
    python -m pytest -p no:cacheprovider -q tests/test_drift.py tests/test_pipeline_checks.py

# (A passing test's tmp_path is removed when it ends: the drift builds each copy the book, with its
# outputs. A failing test's stays under /tmp/pytest-of-$USER to be read.)

# Everything: the book's checked build, lint, the crates' unit tests, the Python test suites
test: test-setup build lint
    cd steps && cargo test --workspace --quiet
    python -m pytest -p no:cacheprovider -o tmp_path_retention_policy=failed -rs --durations=15 tests

# Run the threads and reliability suites again and again under every CPython found, and report
# each crash with its backtraces (not part of `test`; e.g. `just stress --minutes 60`)
stress *ARGS: build
    nice python scripts/stress.py {{ARGS}}

# ANCHOR: bench
# Run the benchmarks: every steps/NN-*/bench.py, after a build (figures vary by machine)
bench: build
    for b in steps/[0-9][0-9]-*/bench.py; do [ -e "$b" ] || continue; echo "== $b"; python "$b"; done
# ANCHOR_END: bench

# Format the Rust code
fmt:
    cd steps && cargo fmt --all

# Lint the Rust code (clippy with warnings as errors, formatting, and build scripts that read the interpreter declare it)
lint:
    cd steps && cargo clippy --workspace --all-targets -- -D warnings
    cd steps && cargo fmt --all --check
    python scripts/lint_build_scripts.py
