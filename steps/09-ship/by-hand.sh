#!/bin/sh
# Chapter 9's staging, as you would type it (see steps/01-shared-library/by-hand.sh).
set -e
# ANCHOR: all
(cd steps && cargo build)
mkdir -p target/run/09 && cd target/run/09
# The module that breaks the stable ABI, and chapter 8's foo, for the audit.
cp ../../debug/libviolation.so violation.abi3.so
cp ../../debug/libfoo08.so foo.abi3.so
# The module with two entry points.
cp ../../debug/libhooks.so hooks.abi3.so
# Chapter 8's foo as a project of its own: two new manifests, the rest is chapter 8's.
mkdir -p wheel/src wheel/pymodule/src
cp ../../../steps/09-ship/wheel/Cargo.toml ../../../steps/09-ship/wheel/pyproject.toml wheel/
cp ../../../steps/Cargo.lock wheel/
cp ../../../steps/08-helper/src/lib.rs wheel/src/
cp ../../../steps/08-helper/expand/pymodule.toml wheel/pymodule/Cargo.toml
cp -R ../../../steps/08-helper/pymodule/src/* wheel/pymodule/src/
rm wheel/pymodule/src/embed.rs  # only for the helper's own tests
cp ../../../steps/09-ship/try-wheel.sh .
cp ../../../steps/09-ship/py/tags.py ../../../steps/09-ship/py/load_violation.py \
    ../../../steps/09-ship/py/which_hook.py .
# ANCHOR_END: all
