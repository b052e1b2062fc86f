# ANCHOR: all
# Chapter 12's staging, as you would type it (see steps/01-shared-library/by-hand.sh). The first
# part is the first page's; the second, the helper's page's. (No #! line: run it with sh.)
set -e
# ANCHOR: raw
# A release build of the module (the chapter measures calls and iterations; chapter 7 says why a
# measure needs a release build).
(cd steps && cargo build --release -p step12-callbacks)
mkdir -p target/run/12 && cd target/run/12
# cargo names a cdylib lib<name>.so; Python looks for <module>.abi3.so.
cp ../../release/libcallbacks.so callbacks.abi3.so
cp ../../../steps/12-callbacks/py/*.py .
# ANCHOR_END: raw
# ANCHOR: helper
# The helper's half (book/ch12-helper-callbacks.md): its modules, built from the folder that holds
# steps/, and copied into the same folder as the first half's.
cd ../../..
(cd steps && cargo build --release -p step12-helper-callbacks -p step12-hist-progress \
    -p step12-hist-progress-broken -p step12-pyo3-callbacks)
cd target/run/12
mkdir -p broken
cp ../../release/libhelper_callbacks.so helper_callbacks.abi3.so
cp ../../release/libhist_progress.so hist_progress.abi3.so
cp ../../release/libhist_progress_broken.so broken/hist_progress.abi3.so
cp ../../release/libpyo3_callbacks.so pyo3_callbacks.abi3.so
# The module and the helper as a crate of their own, for the macros' expansion.
mkdir -p helper-expand/src helper-expand/pymodule/src
cp ../../../steps/12-callbacks/helper-callbacks/expand/Cargo.toml helper-expand/
cp ../../../steps/Cargo.lock helper-expand/
cp ../../../steps/12-callbacks/helper-callbacks/src/lib.rs helper-expand/src/
cp ../../../steps/08-helper/expand/pymodule.toml helper-expand/pymodule/Cargo.toml
cp -R ../../../steps/08-helper/pymodule/src/* helper-expand/pymodule/src/
# ANCHOR_END: helper
# ANCHOR_END: all
