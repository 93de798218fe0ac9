"""The shape of the package (README "How the code is laid out"), read from the source:
dependencies run one way, modules stay small, and nothing imports in a circle."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "i2i"
MODULES = sorted(PACKAGE.rglob("*.py"))


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path, top_level_only: bool) -> set[str]:
    """The i2i modules (and other top-level packages) that `path` imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    if top_level_only:  # also `if TYPE_CHECKING:` / try blocks at module level
        nodes = [n for node in tree.body for n in ast.walk(node) if not _in_function(node)]
    names = set()
    package = (
        module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    )
    for node in nodes:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def _in_function(node) -> bool:
    return isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))


@pytest.mark.parametrize("path", sorted(PACKAGE.glob("gans/*.py")), ids=lambda p: p.name)
def test_the_models_depend_on_nothing_above_them(path):
    forbidden = ("i2i.data", "i2i.training", "i2i.callbacks", "i2i.config", "i2i.commands")
    forbidden += ("i2i.tasks", "click")
    names = imported(path, top_level_only=False)
    assert not [n for n in names if n.startswith(forbidden)], path


def test_no_module_is_large_without_saying_why():
    for path in MODULES:
        lines = len(path.read_text(encoding="utf-8").splitlines())
        assert lines <= 600, f"{path}: {lines} lines"
        if lines > 520:
            docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
            assert "guideline" in docstring, f"{path}: {lines} lines and no reason given"


def test_no_import_cycle():
    modules = {module_name(p): p for p in MODULES}
    graph = {}
    for name, path in modules.items():
        targets = imported(path, top_level_only=True)
        # `from i2i import imageio` names the module i2i.imageio.
        graph[name] = {t for t in targets if t in modules and t != name and t != "i2i"}
    state = {}

    def visit(node, trail):
        state[node] = "open"
        for target in sorted(graph[node]):
            if target.startswith(node + "."):  # a package importing its own submodules
                continue
            if state.get(target) == "open":
                cycle = trail[trail.index(target) :] + [target]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target, [*trail, target])
        state[node] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])


def test_the_shared_helpers_import_no_tensorflow():
    names = imported(PACKAGE / "common.py", top_level_only=False)
    assert not [n for n in names if n.split(".")[0] in ("tensorflow", "keras")]
