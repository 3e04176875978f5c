"""The step graph: dependency order, the steps a target needs, and cycle detection."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from ..errors import InvalidInput


def find_cycle(needs: Mapping[str, Sequence[str]]) -> list[str] | None:
    """A cycle as ``[a, b, ..., a]`` when the graph has one, else None."""
    state: dict[str, int] = {}  # 1 visiting, 2 done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for dep in needs.get(node, ()):
            if dep not in needs:
                continue
            if state.get(dep) == 1:
                return [*stack[stack.index(dep) :], dep]
            if dep not in state:
                found = visit(dep)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(needs):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def closure(needs: Mapping[str, Sequence[str]], targets: Iterable[str] | None) -> set[str]:
    """The targets plus every step they need, transitively (all steps when no target)."""
    targets = list(targets or [])
    if not targets:
        return set(needs)
    unknown = [t for t in targets if t not in needs]
    if unknown:
        raise InvalidInput(
            f"unknown step {unknown[0]!r}",
            hint=f"steps in mlops.yaml: {', '.join(sorted(needs)) or '(none)'}",
        )
    seen: set[str] = set()
    todo = list(targets)
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        todo.extend(needs[node])
    return seen


def topological_order(needs: Mapping[str, Sequence[str]], selected: Iterable[str]) -> list[str]:
    """Selected steps in an order where every step comes after what it needs (stable by name)."""
    selected = set(selected)
    order: list[str] = []
    done: set[str] = set()
    pending = sorted(selected)
    while pending:
        progressed = False
        for node in list(pending):
            if all(dep in done or dep not in selected for dep in needs[node]):
                order.append(node)
                done.add(node)
                pending.remove(node)
                progressed = True
        if not progressed:
            raise InvalidInput(f"steps form a cycle among {', '.join(pending)}")
    return order
