#!/bin/sh
# Chapter 13's staging, as you would type it (see steps/01-shared-library/by-hand.sh).
set -e
# ANCHOR: all
# A release build of the module and of chapter 10's, which the cost is measured against.
(cd steps && cargo build --release -p step13-free-threaded -p step10-classes)
mkdir -p target/run/13 && cd target/run/13
cp ../../release/libsafe_ring.so safe_ring.abi3.so
cp ../../release/libring.so ring.abi3.so
cp ../../../steps/10-classes/py/tour.py ../../../steps/13-free-threaded/py/cost.py .
cp ../../../steps/13-free-threaded/py/ring_threads.py .
# The borrow crate as a crate of its own, for loom.
mkdir -p borrow/src borrow/tests
cp ../../../steps/13-free-threaded/borrow/alone.toml borrow/Cargo.toml
cp ../../../steps/Cargo.lock ../../../steps/13-free-threaded/borrow/build.rs borrow/
cp ../../../steps/13-free-threaded/borrow/src/lib.rs borrow/src/
cp ../../../steps/13-free-threaded/borrow/tests/loom.rs borrow/tests/
# The PyO3 counter as a crate of its own, for its expansion.
mkdir -p pyo3-counter/src
cp ../../../steps/13-free-threaded/pyo3-counter/alone.toml pyo3-counter/Cargo.toml
cp ../../../steps/Cargo.lock pyo3-counter/
cp ../../../steps/13-free-threaded/pyo3-counter/src/lib.rs pyo3-counter/src/
# ANCHOR_END: all
