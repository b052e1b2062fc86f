#!/bin/sh
# Chapter 10's staging, as you would type it (see steps/01-shared-library/by-hand.sh).
set -e
# ANCHOR: all
# A release build of the four modules the chapter runs (chapter 7 says why a measure needs it).
(cd steps && cargo build --release -p step10-classes -p step10-naive -p step10-pyo3-ring \
    -p step10-helper-ring)
mkdir -p target/run/10 && cd target/run/10
# cargo names a cdylib lib<name>.so; Python looks for <module>.abi3.so.
mkdir -p naive
cp ../../release/libring.so ring.abi3.so
cp ../../release/libring_naive.so naive/ring.abi3.so
cp ../../release/libpyo3_ring.so pyo3_ring.abi3.so
cp ../../release/libhelper_ring.so helper_ring.abi3.so
cp ../../../steps/10-classes/py/*.py .
cp ../../../steps/06-errors/py/exit_status.py .
# The helper's Ring and the helper as a crate of their own, for the macros' expansion.
mkdir -p helper-expand/src helper-expand/pymodule/src
cp ../../../steps/10-classes/helper-ring/expand/Cargo.toml ../../../steps/Cargo.lock helper-expand/
cp ../../../steps/10-classes/helper-ring/src/lib.rs helper-expand/src/
cp ../../../steps/08-helper/expand/pymodule.toml helper-expand/pymodule/Cargo.toml
cp -R ../../../steps/08-helper/pymodule/src/* helper-expand/pymodule/src/
# ANCHOR_END: all
