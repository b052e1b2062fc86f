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
# The build script wrote sum.h into its OUT_DIR: target/debug/build/<package>-<hash>/out.
cp ../../debug/build/step01-shared-library-*/out/sum.h .
cp ../../../steps/01-shared-library/c/main.c ../../../steps/01-shared-library/c/dot.c .
# ANCHOR_END: all
