#!/bin/sh
# Chapter 5's staging, as you would type it (see steps/01-shared-library/by-hand.sh).
set -e
# ANCHOR: all
(cd steps && cargo build)
mkdir -p target/run/05/no-ffi && cd target/run/05
cp ../../debug/libfoo05.so foo.abi3.so
cp ../../debug/libfoo05_no_ffi.so no-ffi/foo.abi3.so
# ANCHOR_END: all
