"""No module of Leadloop imports itself back through others, even inside a function.

import-linter's layers contracts (pyproject.toml) keep each layer from importing the ones above it,
but say nothing about modules outside the named layers (stages, parsers, context). A cycle among
those is how the old `leadloop.api` ↔ routers and services ↔ tasks tangles began, so any new one
fails here.
"""

from __future__ import annotations

from collections.abc import Iterator

import grimp

# One cycle inside one transport, kept on purpose, a lazy import inside a function. (The import
# worker's cycle with the importer ended when the importer became a package: the worker imports
# only the row validation, which imports nothing of the run.)
KNOWN_CYCLES = {
    # client.py dispatches to the SFTP transport, which raises client's FtpError on failure.
    frozenset({"leadloop.intake.channels.ftp.client", "leadloop.intake.channels.ftp.sftp"}),
}


def _cycles(graph: grimp.ImportGraph) -> set[frozenset[str]]:
    """The strongly connected groups of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: set[frozenset[str]] = set()

    def imported_by(module: str) -> Iterator[str]:
        return iter(sorted(graph.find_modules_directly_imported_by(module)))

    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, imported_by(root))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append(
                        (child, iter(sorted(graph.find_modules_directly_imported_by(child))))
                    )
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.add(member)
                    if member == node:
                        break
                if len(group) > 1:
                    found.add(frozenset(group))
    return found


def test_no_new_import_cycles_between_modules():
    graph = grimp.build_graph("leadloop", cache_dir=None)

    cycles = _cycles(graph)

    assert cycles == KNOWN_CYCLES


def test_cycle_finder_sees_a_cycle_through_three_modules():
    graph = grimp.ImportGraph()
    for module in ("pkg", "pkg.a", "pkg.b", "pkg.c", "pkg.d"):
        graph.add_module(module)
    graph.add_import(importer="pkg.a", imported="pkg.b")
    graph.add_import(importer="pkg.b", imported="pkg.c")
    graph.add_import(importer="pkg.c", imported="pkg.a")
    graph.add_import(importer="pkg.c", imported="pkg.d")

    assert _cycles(graph) == {frozenset({"pkg.a", "pkg.b", "pkg.c"})}
