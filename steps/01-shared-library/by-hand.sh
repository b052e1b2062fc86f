#!/bin/sh
# What the book's pipeline does before it runs this chapter's commands, as you would type it.
# Run it from the folder that holds steps/ (the workspace) and target/ (where cargo builds, as
# steps/.cargo/config.toml says). `tests/test_by_hand.py` runs it and checks that it gathers
# exactly the files the book's commands ran with.
set -e
# ANCHOR: all
# Build every crate of the workspace (the first build takes a minute or so).
(cd steps && cargo build)
# Gather what this chapter's commands need in a folder of their own, and work there.
mkdir -p target/run/01 && cd target/run/01
cp ../../debug/libsum.so ../../debug/libsum.a .
# The build script wrote sum.h into its OUT_DIR, target/debug/build/<package>-<hash>/out. There
# can be several such folders (cargo check and clippy make their own): ask cargo which is the
# build's. It names each build script's OUT_DIR in its JSON messages.
out=$(cd ../../../steps && cargo build --quiet --message-format=json | python3 -c '
import json, sys
for message in map(json.loads, sys.stdin):
    if message["reason"] == "build-script-executed" and "#step01-" in message["package_id"]:
        print(message["out_dir"])')
cp "$out/sum.h" .
cp ../../../steps/01-shared-library/c/main.c ../../../steps/01-shared-library/c/dot.c .
# ANCHOR_END: all
