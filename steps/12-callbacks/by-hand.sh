#!/bin/sh
# Chapter 12's staging, as you would type it (see steps/01-shared-library/by-hand.sh).
set -e
# ANCHOR: all
# A release build of the module (the chapter measures calls and iterations).
(cd steps && cargo build --release -p step12-callbacks)
mkdir -p target/run/12 && cd target/run/12
# cargo names a cdylib lib<name>.so; Python looks for <module>.abi3.so.
cp ../../release/libcallbacks.so callbacks.abi3.so
cp ../../../steps/12-callbacks/py/*.py .
# ANCHOR_END: all
