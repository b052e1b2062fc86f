#!/bin/sh
# Chapter 2's staging, as you would type it (see steps/01-shared-library/by-hand.sh).
set -e
# ANCHOR: all
(cd steps && cargo build)
mkdir -p target/run/02 && cd target/run/02
# The build script wrote the module into its OUT_DIR, already under the name Python looks for.
cp ../../debug/build/step02-c-extension-*/out/foo.abi3.so .
cp ../../../steps/02-c-extension/py/overflow.py .
# ANCHOR_END: all
