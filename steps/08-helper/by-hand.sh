#!/bin/sh
# Chapter 8's staging, as you would type it (see steps/01-shared-library/by-hand.sh).
set -e
# ANCHOR: all
# A release build of the packages the chapter stages, and only those: in a build of the whole
# workspace, other crates' features would change PyO3's dependencies, and so its module's bytes.
(cd steps && cargo build --release -p step08-helper -p step08-tally -p step08-pyo3-foo \
    -p step08-helper-sum -p step08-raw-kw -p step07-call-overhead -p step03-rust-extension)
mkdir -p target/run/08 && cd target/run/08
# cargo names a cdylib lib<name>.so; Python looks for <module>.abi3.so.
mkdir -p pyo3 ch03
cp ../../release/libfoo08.so foo.abi3.so
cp ../../release/libtally.so tally.abi3.so
cp ../../release/libfoo08_pyo3.so pyo3/foo.abi3.so
cp ../../release/libfoo03.so ch03/foo.abi3.so
cp ../../release/libhelper_sum.so helper_sum.abi3.so
cp ../../release/libraw_kw.so raw_kw.abi3.so
cp ../../release/librust_fastcall.so rust_fastcall.abi3.so
cp ../../../steps/02-c-extension/py/overflow.py .
cp ../../../steps/08-helper/py/errors.py ../../../steps/08-helper/py/tally_demo.py .
cp ../../../steps/08-helper/py/errors.py pyo3/
cp ../../../steps/08-helper/py/unknown_slot.py ../../../steps/08-helper/py/subinterpreters.py .
cp ../../../steps/08-helper/py/zero_cost.py .
# foo and the helper as a crate of their own, for the macro's expansion.
mkdir -p expand/src expand/pymodule/src
cp ../../../steps/08-helper/expand/Cargo.toml ../../../steps/Cargo.lock expand/
cp ../../../steps/08-helper/src/lib.rs expand/src/
cp ../../../steps/08-helper/expand/pymodule.toml expand/pymodule/Cargo.toml
cp -R ../../../steps/08-helper/pymodule/src/* expand/pymodule/src/
# ANCHOR_END: all
