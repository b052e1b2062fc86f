#!/bin/sh
# Chapter 12's staging, as you would type it (see steps/01-shared-library/by-hand.sh).
set -e
# ANCHOR: all
# A release build of the modules (the chapter measures calls and iterations; chapter 7 says why a
# measure needs a release build).
(cd steps && cargo build --release -p step12-callbacks -p step12-helper-callbacks \
    -p step12-hist-progress -p step12-hist-progress-broken -p step12-pyo3-callbacks)
mkdir -p target/run/12 && cd target/run/12
# cargo names a cdylib lib<name>.so; Python looks for <module>.abi3.so.
cp ../../release/libcallbacks.so callbacks.abi3.so
cp ../../../steps/12-callbacks/py/*.py .
# --- the helper's part (book/ch12-helper-callbacks.md) ---
mkdir -p broken
cp ../../release/libhelper_callbacks.so helper_callbacks.abi3.so
cp ../../release/libhist_progress.so hist_progress.abi3.so
cp ../../release/libhist_progress_broken.so broken/hist_progress.abi3.so
cp ../../release/libpyo3_callbacks.so pyo3_callbacks.abi3.so
# The module and the helper as a crate of their own, for the macros' expansion.
mkdir -p helper-expand/src helper-expand/pymodule/src
cp ../../../steps/12-callbacks/helper-callbacks/expand/Cargo.toml ../../../steps/Cargo.lock helper-expand/
cp ../../../steps/12-callbacks/helper-callbacks/src/lib.rs helper-expand/src/
cp ../../../steps/08-helper/expand/pymodule.toml helper-expand/pymodule/Cargo.toml
cp -R ../../../steps/08-helper/pymodule/src/* helper-expand/pymodule/src/
# --- end of the helper's part ---
# ANCHOR_END: all
