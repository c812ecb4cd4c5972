"""The import graph: no circle, nothing points upward, no private name crosses a layer.

Every module of ``src/rampup`` is parsed (``ast``, never imported) and each of its imports is an
arrow of one kind: *eager* (module level), *lazy* (inside a function) or *typing* (under
``if TYPE_CHECKING:``). The layers, lowest first, are declared once below by module-name prefix,
so modules moved into a package (``rampup/torch/``, ``rampup/cli/``, ``rampup/advice/``) keep
their layer.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

#: (prefix, layer): a module is in the layer of the longest prefix that names it or a package
#: above it (``rampup.torch`` covers ``rampup.torch`` and ``rampup.torch.scheduler``).
LAYERS: dict[str, str] = {
    # core: the standard library, numpy and itself only
    "rampup": "core",  # the package root: the public surface (tools only through a lazy table)
    "rampup.core": "core",
    "rampup.compat": "core",  # public paths of core modules (re-exports)
    "rampup.clock": "core",
    "rampup.checks": "core",
    # adapters: a framework each, imported lazily
    "rampup.torch": "adapters",
    "rampup.optax": "adapters",
    "rampup.keras": "adapters",
    "rampup.callbacks": "adapters",
    # tools: built on the core and the adapters
    "rampup.__main__": "tools",
    "rampup.guard": "tools",  # the monitor, the adaptive controller (and later the probe)
    "rampup.monitor": "tools",  # public paths of the guard's modules (re-exports)
    "rampup.adaptive": "tools",
    "rampup.plotting": "tools",
    "rampup.rules": "tools",
    "rampup.advice": "tools",
    "rampup.cli": "tools",
    "rampup.lab": "tools",
}
RANK = {"core": 0, "adapters": 1, "tools": 2}

#: Lazy arrows that point upward by design, each with its reason.
LAZY_UPWARD: dict[tuple[str, str], str] = {
    # DESIGN: "a phase that brings a controller (auto) looks it up lazily"
    ("rampup.core.auto_warmup", "rampup.guard"): "Auto.guard() builds its controller on use",
}

#: Lazy arrows inside the core that close a circle with its eager imports, each with its
#: reason and its fix; this list only shrinks.
LAZY_CIRCLE: dict[tuple[str, str], str] = {
    # Schedule.__str__ / to_dict print through the spec module, which imports schedule;
    # schedule.py is another change's file (fix: the printer registered by spec, or moved).
    (
        "rampup.core.schedule",
        "rampup.core.spec",
    ): "the schedule prints itself through the spec module",
}

#: Typing-only arrows that point upward (never run); listed so each one is a decision.
TYPING_UPWARD: set[tuple[str, str]] = {
    ("rampup", "rampup.guard"),  # the lazy table's names, for type checkers
    ("rampup", "rampup.cli.plots"),
    ("rampup", "rampup.advice"),
    ("rampup", "rampup.torch.probe"),  # rampup.probe, the torch probe, for type checkers
    ("rampup.core.auto_warmup", "rampup.guard"),  # the return type of Auto.guard()
}

#: Known violations in modules this change does not own: (importer prefix, imported module,
#: name or ""). This list only shrinks: an entry that no longer occurs fails the test.
KNOWN: dict[tuple[str, str, str], str] = {}


@dataclass(frozen=True)
class Arrow:
    """One import: ``source`` imports ``name`` (or the whole module: "") from ``target``."""

    source: str
    target: str
    name: str
    kind: str  # "eager", "lazy" or "typing"
    line: int


def module_name(path: Path) -> str:
    """``src/rampup/torch/scheduler.py`` -> ``rampup.torch.scheduler``."""
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted((SRC / "rampup").rglob("*.py"))}


def layer(module: str) -> str:
    """The layer of ``module``: its longest declared prefix (an undeclared module fails)."""
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        found = LAYERS.get(".".join(parts[:n]))
        if found is not None and (n > 1 or len(parts) == 1):
            return found
    raise AssertionError(f"{module} has no layer: declare it in LAYERS")


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _resolve(source: str, node: ast.ImportFrom) -> str:
    """The absolute module of a ``from ... import`` (relative imports included)."""
    if not node.level:
        return node.module or ""
    package = source.split(".")
    is_package = MODULES[source].name == "__init__.py"
    base = package if is_package else package[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def arrows(source: str) -> list[Arrow]:
    """Every import of rampup's own modules in ``source``, with its kind."""
    tree = ast.parse(MODULES[source].read_text(encoding="utf-8"))
    found: list[Arrow] = []

    def visit(node: ast.AST, kind: str) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                visit(child, "typing")
            for child in node.orelse:
                visit(child, kind)
            return
        if isinstance(node, ast.Import):
            found.extend(
                Arrow(source, alias.name, "", kind, node.lineno)
                for alias in node.names
                if alias.name.split(".")[0] == "rampup"
            )
            return
        if isinstance(node, ast.ImportFrom):
            target = _resolve(source, node)
            if target.split(".")[0] != "rampup":
                return
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                if sub in MODULES:  # ``from rampup.core import spec``: the submodule itself
                    found.append(Arrow(source, sub, "", kind, node.lineno))
                else:
                    found.append(Arrow(source, target, alias.name, kind, node.lineno))
            return
        inner = "lazy" if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) else kind
        for inside in ast.iter_child_nodes(node):
            visit(inside, "typing" if kind == "typing" else inner)

    visit(tree, "eager")
    return found


ARROWS = [a for source in MODULES for a in arrows(source)]


def _known(a: Arrow) -> tuple[str, str, str] | None:
    for key in KNOWN:
        prefix, target, name = key
        if (a.source == prefix or a.source.startswith(prefix + ".")) and (
            a.target,
            a.name,
        ) == (target, name):
            return key
    return None


def _private(a: Arrow) -> bool:
    """The arrow names a ``_``-prefixed module or name (dunders such as ``__main__`` aside)."""
    parts = [*a.target.split(".")[1:], *([a.name] if a.name else [])]
    return any(p.startswith("_") and not p.startswith("__") for p in parts)


def _upward(a: Arrow) -> bool:
    return RANK[layer(a.target)] > RANK[layer(a.source)]


def test_every_module_has_a_layer() -> None:
    """Each module of src/rampup maps to exactly one declared layer (by module-name prefix)."""
    assert {layer(m) for m in MODULES} <= set(RANK)
    assert layer("rampup.torch.scheduler") == "adapters"  # a package keeps its layer
    assert layer("rampup.advice.suggest") == "tools"
    assert layer("rampup.cli.plots") == "tools"
    assert layer("rampup.core.spec") == "core"


def test_the_parser_sees_each_kind_of_import() -> None:
    """The graph has arrows of all three kinds, and resolves ``from rampup import <module>``."""
    kinds = {a.kind for a in ARROWS}
    assert kinds == {"eager", "lazy", "typing"}
    spec = {a.target for a in ARROWS if a.source == "rampup.core.registry" and a.kind == "eager"}
    assert {
        "rampup.core.shapes",
        "rampup.core.compat",
        "rampup.core.recipes",
        "rampup.core.auto_warmup",
    } <= spec
    assert "rampup.adaptive" not in spec
    assert "rampup.guard" not in spec
    lazy = {(a.source, a.target) for a in ARROWS if a.kind == "lazy"}
    assert ("rampup.core.auto_warmup", "rampup.guard") in lazy


def _cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One circle of ``edges`` (a list of modules, first == last), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def walk(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state:
                found = walk(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state:
            found = walk(node)
            if found:
                return found
    return None


def _edges(kinds: set[str], skip: set[tuple[str, str]]) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for a in ARROWS:
        pair = (a.source, a.target)
        if a.kind in kinds and a.target in MODULES and a.target != a.source and pair not in skip:
            edges.setdefault(a.source, set()).add(a.target)
    return edges


def test_no_import_circle() -> None:
    """The module-level imports form no circle."""
    edges = _edges({"eager"}, set())
    assert _cycle(edges) is None, " -> ".join(_cycle(edges) or [])


def test_no_circle_through_lazy_imports() -> None:
    """With function-level imports too, no circle, beyond the listed lookup and core circle."""
    edges = _edges({"eager", "lazy"}, set(LAZY_UPWARD) | set(LAZY_CIRCLE))
    assert _cycle(edges) is None, " -> ".join(_cycle(edges) or [])
    for pair in LAZY_CIRCLE:  # each listed arrow still exists and still closes a circle
        assert pair[1] in _edges({"lazy"}, set()).get(pair[0], set()), f"fixed: delete {pair}"
        assert _cycle(_edges({"eager", "lazy"}, set(LAZY_UPWARD))) is not None


def test_the_circle_finder_finds_a_circle() -> None:
    """The search reports a circle it is given (the check above can fail)."""
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": {"c"}}) is None


def test_nothing_points_upward() -> None:
    """No module or function imports a higher layer, beyond the design's lazy lookups."""
    bad = [
        f"{a.source}:{a.line} -> {a.target} ({a.kind}, {layer(a.source)} -> {layer(a.target)})"
        for a in ARROWS
        if a.kind != "typing"
        and _upward(a)
        and not (a.kind == "lazy" and (a.source, a.target) in LAZY_UPWARD)
        and _known(a) is None
    ]
    assert not bad, "\n".join(bad)


def test_typing_only_upward_arrows_are_the_listed_ones() -> None:
    """Imports under TYPE_CHECKING that point upward are reported separately: these only."""
    found = {(a.source, a.target) for a in ARROWS if a.kind == "typing" and _upward(a)}
    assert found == TYPING_UPWARD


def test_no_private_name_crosses_a_layer() -> None:
    """A ``_``-prefixed module or name is imported only within its own layer."""
    bad = [
        f"{a.source}:{a.line} imports {a.target}{'.' + a.name if a.name else ''} ({a.kind})"
        for a in ARROWS
        if _private(a) and layer(a.source) != layer(a.target) and _known(a) is None
    ]
    assert not bad, "\n".join(bad)


def test_the_known_exceptions_still_occur() -> None:
    """Each listed exception is still in the code: when one is fixed, delete it (list shrinks)."""
    used = {_known(a) for a in ARROWS}
    stale = [key for key in KNOWN if key not in used]
    assert not stale, ("fixed, delete from KNOWN:", stale)


@pytest.mark.parametrize(
    "module", ["rampup.lab", "rampup.guard", "rampup.monitor", "rampup.adaptive"]
)
def test_the_tools_of_this_layout_use_public_api_only(module: str) -> None:
    """The lab, the guard and its public paths import no private name from outside themselves."""
    bad = [
        f"{a.source}:{a.line} {a.target} {a.name}"
        for a in ARROWS
        if (a.source == module or a.source.startswith(module + "."))
        and _private(a)
        and not a.target.startswith(module + ".")
    ]
    assert not bad, "\n".join(bad)
