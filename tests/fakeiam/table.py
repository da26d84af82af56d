"""A dict of records by id with secondary indexes kept in step with it.

"The keys of this user" and "the users of this account" are asked on every request; with the
records in plain dicts each answer was a scan of the whole world, so a request cost more CPU the
more users and keys the server held. A Table answers them with one lookup.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, ItemsView, Iterator, KeysView, MutableMapping, ValuesView
from typing import Any, TypeVar

R = TypeVar("R")


class Table(MutableMapping[str, R]):
    """Records by id, ordered like a dict, plus one index per named grouping: for each value of
    the grouping, the records that have it, in the table's order (what a scan would find).

    Every change goes through __setitem__ and __delitem__ (MutableMapping builds pop, popitem,
    update, setdefault and clear on them), so nothing can change the records without the indexes.
    A record's grouped attributes must not change while it is in the table: model.py's records
    refuse that.
    """

    def __init__(self, **groupings: Callable[[R], Hashable]):
        self._rows: dict[str, R] = {}
        self._groupings = groupings
        self._indexes: dict[str, dict[Hashable, dict[str, R]]] = {name: {} for name in groupings}
        # The values each row was indexed under, so that removing it never recomputes them.
        self._indexed_under: dict[str, tuple[Hashable, ...]] = {}

    def group(self, grouping: str, value: Hashable) -> list[R]:
        """The records whose ``grouping`` is ``value``, in the table's order; one lookup, no scan."""
        members = self._indexes[grouping].get(value)
        return list(members.values()) if members else []

    def index(self, grouping: str) -> dict[Hashable, list[str]]:
        """The index itself (value -> ids), for tests that compare it with a scan."""
        return {value: list(members) for value, members in self._indexes[grouping].items()}

    # -- the mapping ---------------------------------------------------------------------------

    def __getitem__(self, ident: str) -> R:
        return self._rows[ident]

    def __setitem__(self, ident: str, row: R) -> None:
        values = tuple(grouping(row) for grouping in self._groupings.values())  # may raise: nothing changed yet
        old_values = self._indexed_under.get(ident)
        self._rows[ident] = row  # a replaced row keeps its place, as in a dict
        self._indexed_under[ident] = values
        for name, value, old_value in zip(self._groupings, values, old_values or (None,) * len(values)):
            index = self._indexes[name]
            if old_values is None or old_value == value:
                index.setdefault(value, {})[ident] = row
                continue
            # A row replaced by one in another group (nothing in fakeiam does this): rebuild that
            # group so that it keeps the table's order.
            self._unindex(name, old_value, ident)
            position = list(self._groupings).index(name)
            index[value] = {other: self._rows[other] for other, under in self._indexed_under.items()
                            if under[position] == value}

    def __delitem__(self, ident: str) -> None:
        del self._rows[ident]
        for name, value in zip(self._groupings, self._indexed_under.pop(ident)):
            self._unindex(name, value, ident)

    def _unindex(self, grouping: str, value: Hashable, ident: str) -> None:
        index = self._indexes[grouping]
        members = index[value]
        del members[ident]
        if not members:
            del index[value]

    def popitem(self) -> tuple[str, R]:
        # The last one, as dict does (MutableMapping's pops the first).
        if not self._rows:
            raise KeyError("popitem(): table is empty")
        ident = next(reversed(self._rows))
        return ident, self.pop(ident)

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    # Faster than MutableMapping's generic versions, which go through __getitem__ per row.

    def __contains__(self, ident: object) -> bool:
        return ident in self._rows

    def get(self, key: str, default: Any = None) -> Any:
        return self._rows.get(key, default)

    def keys(self) -> KeysView[str]:
        return self._rows.keys()

    def values(self) -> ValuesView[R]:
        return self._rows.values()

    def items(self) -> ItemsView[str, R]:
        return self._rows.items()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._rows!r})"
