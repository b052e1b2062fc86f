"""Loads a built extension module straight from its file, for the scripts that the tests run in
child interpreters. Standard library only, so it works under every CPython >= 3.10."""

import importlib.machinery
import importlib.util
from pathlib import Path


def load(path, name=None):
    """The module in `path`, imported as `name` (by default the file name up to its first dot:
    foo.abi3.so is `foo`, whose PyInit_foo Python calls)."""
    name = name or Path(path).name.split(".")[0]
    loader = importlib.machinery.ExtensionFileLoader(name, str(path))
    spec = importlib.util.spec_from_file_location(name, str(path), loader=loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def module_at(path, name=None):
    """The module in `path`: a `.py` file (a test's deliberately broken stand-in for an extension)
    run as a module of its own, or else an extension loaded by `load`."""
    if str(path).endswith(".py"):
        spec = importlib.util.spec_from_file_location(Path(path).stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    return load(path, name)
