#!/bin/sh
# Chapter 6's staging, as you would type it (see steps/01-shared-library/by-hand.sh).
set -e
# ANCHOR: all
(cd steps && cargo build)
mkdir -p target/run/06 && cd target/run/06
cp ../../debug/liberrors.so errors.abi3.so
cp ../../debug/libbroken.so broken.abi3.so
cp ../../../steps/06-errors/py/*.py .
# ANCHOR_END: all
