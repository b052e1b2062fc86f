"""The programs in tests/children run in child processes under every CPython the suites test,
where pytest is not installed: none of them may import pytest, the suites' conftest or their shared
support (which imports pytest). (ch06_probe.py draws values with hypothesis, and runs only where the
suites installed it.) Read from each file's syntax tree, so an import inside a function counts too."""
import ast

import pytest

from support import CHILDREN

FORBIDDEN = {"pytest", "_pytest", "conftest", "support"}
CHILD_FILES = sorted(CHILDREN.glob("*.py"))


def imported_roots(tree: ast.AST) -> set[str]:
    """The top-level package of every module an import statement in `tree` names."""
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_there_are_children():
    assert len(CHILD_FILES) >= 10, f"tests/children holds only {CHILD_FILES}"


@pytest.mark.parametrize("child", CHILD_FILES, ids=lambda p: p.name)
def test_a_child_imports_no_test_machinery(child):
    bad = imported_roots(ast.parse(child.read_text(), str(child))) & FORBIDDEN
    assert not bad, f"tests/children/{child.name} imports {sorted(bad)}: a child runs without them"


def test_the_check_sees_an_import_inside_a_function():
    tree = ast.parse("def f():\n    if True:\n        from _pytest import x\nimport os.path\n")
    assert imported_roots(tree) & FORBIDDEN == {"_pytest"}
