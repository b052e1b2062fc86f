#!/bin/sh
# Chapter 11's staging, as you would type it (see steps/01-shared-library/by-hand.sh).
set -e
# ANCHOR: all
# A release build of the two modules the chapter runs: its measures need optimised code.
(cd steps && cargo build --release -p step11-hot-loop -p step11-pyo3-hist)
mkdir -p target/run/11 && cd target/run/11
# cargo names a cdylib lib<name>.so; Python looks for <module>.abi3.so.
cp ../../release/libhist.so hist.abi3.so
cp ../../release/libpyo3_hist.so pyo3_hist.abi3.so
cp ../../../steps/11-hot-loop/py/*.py .
# ANCHOR_END: all
