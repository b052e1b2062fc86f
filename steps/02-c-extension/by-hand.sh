#!/bin/sh
# Chapter 2's staging, as you would type it (see steps/01-shared-library/by-hand.sh).
set -e
# ANCHOR: all
(cd steps && cargo build)
mkdir -p target/run/02 && cd target/run/02
# The build script wrote the module into its OUT_DIR, already under the name Python looks for;
# cargo names that folder in its JSON messages (as in chapter 1).
out=$(cd ../../../steps && cargo build --quiet --message-format=json | python3 -c '
import json, sys
for message in map(json.loads, sys.stdin):
    if message["reason"] == "build-script-executed" and "#step02-" in message["package_id"]:
        print(message["out_dir"])')
cp "$out/foo.abi3.so" .
cp ../../../steps/02-c-extension/py/overflow.py .
# ANCHOR_END: all
