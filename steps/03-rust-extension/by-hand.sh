#!/bin/sh
# Chapter 3's staging, as you would type it (see steps/01-shared-library/by-hand.sh).
set -e
# ANCHOR: all
# ANCHOR: files
# Stage 1 compiles chapter 2's foo.c, and stages 3 and 4 the chapter's own: a link to each in the
# stage's folder, made before the first build (and kept: later chapters build the stages too).
(cd steps/03-rust-extension/stages && ln -sf ../../../02-c-extension/foo.c 1-c-archive/foo.c \
    && ln -sf ../../foo.c 3-returns-zero/foo.c && ln -sf ../../foo.c 4-parse-tuple/foo.c)
# ANCHOR_END: files
(cd steps && cargo build)
mkdir -p target/run/03 && cd target/run/03
# cargo names a cdylib lib<name>.so; Python looks for foo.abi3.so. Each stage gets a folder.
mkdir -p 1-c-archive 2-init-in-rust 3-returns-zero 4-parse-tuple
cp ../../debug/libfoo03_c_archive.so 1-c-archive/foo.abi3.so
cp ../../debug/libfoo03_init_in_rust.so 2-init-in-rust/foo.abi3.so
cp ../../debug/libfoo03_returns_zero.so 3-returns-zero/foo.abi3.so
cp ../../debug/libfoo03_parse_tuple.so 4-parse-tuple/foo.abi3.so
cp ../../../steps/03-rust-extension/py/crash.py 4-parse-tuple/
cp ../../debug/libfoo03.so foo.abi3.so
cp ../../../steps/02-c-extension/py/overflow.py .
# The crate that the section on libpython builds apart from the workspace.
mkdir -p wrong-way/src
cp ../../../steps/03-rust-extension/wrong-way/Cargo.toml ../../../steps/Cargo.lock wrong-way/
cp ../../../steps/03-rust-extension/wrong-way/src/lib.rs wrong-way/src/
# ANCHOR_END: all
