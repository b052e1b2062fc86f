#!/bin/sh
# Chapter 4's staging, as you would type it (see steps/01-shared-library/by-hand.sh).
set -e
# ANCHOR: all
(cd steps && cargo build)
mkdir -p target/run/04 && cd target/run/04
cp ../../debug/libfoo04.so foo.abi3.so
cp ../../../steps/04-concurrency/py/*.py .
cp ../../../steps/04-concurrency/bench.py .
# ANCHOR_END: all
