"""Helpers for importers that learn the tree from separate relations (ESCO, CASE)."""

from __future__ import annotations

from collections.abc import MutableMapping


def break_cycles(parents: MutableMapping[str, str | None]) -> list[str]:
    """Detach nodes whose parent chain loops back; return the detached keys.

    Runs in O(n): each node is walked once thanks to the ``state`` marks.
    """
    state: dict[str, int] = {}  # 1 = on the current path, 2 = known to reach a root
    detached: list[str] = []
    for start in list(parents):
        path: list[str] = []
        node: str | None = start
        while node is not None and node in parents and state.get(node) != 2:
            if state.get(node) == 1:
                parents[node] = None
                detached.append(node)
                break
            state[node] = 1
            path.append(node)
            node = parents[node]
        for visited in path:
            state[visited] = 2
    return detached
