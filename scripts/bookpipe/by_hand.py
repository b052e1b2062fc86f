"""Each chapter's by-hand.sh, the staging a reader types: run in a folder laid out as the
repository is, and held to gathering exactly the files the book's commands ran with."""

from __future__ import annotations

import json
from pathlib import Path

from .build import sha256_file
from .config import ROOT, STEPS
from .steps import BY_HAND, all_steps


def by_hand_problems() -> list[str]:
    """Each chapter's by-hand.sh, which its page shows as the commands that stage the chapter's
    files, gathers exactly the files (byte for byte) that the book's commands ran with. It runs
    in a folder of its own laid out as the repository is (steps/, and target/'s debug and release
    builds being the pipeline's), with the pipeline's cargo build, which it finds up to date. A
    passing result is remembered for the script's text and the staged files it matched."""
    import hashlib
    import shutil
    import subprocess
    from .config import CACHE, STAGE, WORK, python_env
    problems = []
    env = python_env()
    # The pipeline's cargo runs in steps/, where a relative CARGO_TARGET_DIR starts.
    cargo_target = (STEPS / env["CARGO_TARGET_DIR"]).resolve()
    env["CARGO_TARGET_DIR"] = str(cargo_target)
    for step in all_steps():
        script = step.folder / BY_HAND
        manifest = STAGE / step.nn / ".manifest.json"
        if not script.exists() or not manifest.exists():
            continue
        staged = json.loads(manifest.read_text())
        key = hashlib.sha256(script.read_bytes() + manifest.read_bytes()).hexdigest()[:32]
        passed = CACHE / f"by-hand-{step.nn}-{key}.ok"
        if passed.exists():
            continue
        root = WORK / "by-hand" / step.nn
        shutil.rmtree(root, ignore_errors=True)
        (root / "target").mkdir(parents=True)
        (root / "steps").symlink_to(STEPS)
        for profile in ("debug", "release"):
            (root / "target" / profile).symlink_to(cargo_target / profile)
        proc = subprocess.run(["sh", str(script)], cwd=root, env=env, capture_output=True,
                              text=True, stdin=subprocess.DEVNULL, timeout=1800)
        rel = script.relative_to(ROOT)
        if proc.returncode != 0:
            problems.append(f"{step.label}: {rel}, which its page shows, exited with status "
                            f"{proc.returncode}:\n{(proc.stdout + proc.stderr).strip()[-2000:]}")
            continue
        difference = gathering_difference(gathered_files(root / "target" / "run" / step.nn),
                                          staged)
        if difference:
            problems.append(f"{step.label}: {rel}, which its page shows, gathers other files "
                            f"than the book's commands ran with: {difference}")
            continue
        CACHE.mkdir(parents=True, exist_ok=True)
        for old in CACHE.glob(f"by-hand-{step.nn}-*.ok"):
            old.unlink()
        passed.write_text("")
        shutil.rmtree(root, ignore_errors=True)
    return problems


def gathered_files(run: Path) -> dict[str, str]:
    """What a by-hand.sh gathered: each file under `run`, by its path there, -> its SHA-256,
    hashed as the staging's .manifest.json is (build.sha256_file)."""
    return {str(f.relative_to(run)): sha256_file(f) for f in sorted(run.rglob("*")) if f.is_file()}


def gathering_difference(gathered: dict[str, str], staged: dict[str, str]) -> str:
    """How the files a by-hand.sh gathered differ from those staged ("" when they do not)."""
    if gathered == staged:
        return ""
    return (f"only by hand {sorted(set(gathered) - set(staged))}, "
            f"only staged {sorted(set(staged) - set(gathered))}, different "
            f"{sorted(k for k in set(gathered) & set(staged) if gathered[k] != staged[k])}")
