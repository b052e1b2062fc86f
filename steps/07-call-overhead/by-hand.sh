#!/bin/sh
# Chapter 7's staging, as you would type it (see steps/01-shared-library/by-hand.sh).
set -e
# ANCHOR: all
# A release build of the modules this chapter measures, and of chapters 1 and 2's libraries that
# it measures too. The Go module is built with the `go` on
# PATH: scripts/setup.sh puts the pinned one in .venv/bin, so have that on PATH (`just` does it
# for you).
set -- --release --package step07-call-overhead --package step07-rust-varargs \
    --package step07-pyo3-sum --package step07-go-sum \
    --package step02-c-extension --package step01-shared-library
(cd steps && cargo build "$@")
mkdir -p target/run/07 && cd target/run/07
cp ../../release/librust_fastcall.so rust_fastcall.abi3.so
cp ../../release/librust_varargs.so rust_varargs.abi3.so
cp ../../release/libpyo3_sum.so pyo3_sum.abi3.so
cp ../../release/libsum.so .
# Build scripts wrote the C and Go modules into their OUT_DIRs: ask cargo for those folders.
(cd ../../../steps && cargo build "$@" --quiet --message-format=json) > messages.json
out() {
    python3 -c '
import json, sys
for line in open("messages.json"):
    message = json.loads(line)
    if message["reason"] == "build-script-executed" and sys.argv[1] in message["package_id"]:
        print(message["out_dir"])' "#$1@"
}
cp "$(out step07-call-overhead)"/*.abi3.so .
cp "$(out step07-go-sum)"/go_sum.abi3.so "$(out step07-go-sum)"/go-toolchain.txt .
cp "$(out step02-c-extension)"/foo.abi3.so .
rm messages.json
cp ../../../steps/07-call-overhead/py/*.py .
# ANCHOR_END: all
