"""Store counters for /v2/stats/store (v2-spec §4.7).

Kept as one list indexed by the constants below, so the store bumps a counter with a
single list operation on the write path.
"""

from __future__ import annotations

__all__ = ["StoreStats", "FIELDS"]

#: the JSON field order etcd 3.4 emits; `watchers` is appended from the watcher hub
FIELDS = (
    "getsSuccess",
    "getsFail",
    "setsSuccess",
    "setsFail",
    "deleteSuccess",
    "deleteFail",
    "updateSuccess",
    "updateFail",
    "createSuccess",
    "createFail",
    "compareAndSwapSuccess",
    "compareAndSwapFail",
    "compareAndDeleteSuccess",
    "compareAndDeleteFail",
    "expireCount",
)
(
    GETS_OK,
    GETS_FAIL,
    SETS_OK,
    SETS_FAIL,
    DELETE_OK,
    DELETE_FAIL,
    UPDATE_OK,
    UPDATE_FAIL,
    CREATE_OK,
    CREATE_FAIL,
    CAS_OK,
    CAS_FAIL,
    CAD_OK,
    CAD_FAIL,
    EXPIRE,
) = range(len(FIELDS))


class StoreStats:
    __slots__ = ("counts", "watchers")

    def __init__(self) -> None:
        self.counts = [0] * len(FIELDS)
        #: registered watchers (set by the store when read)
        self.watchers = 0

    def as_dict(self) -> dict[str, int]:
        return {**dict(zip(FIELDS, self.counts)), "watchers": self.watchers}

    def to_json(self) -> bytes:
        """Compact JSON in etcd's field order, no trailing newline."""
        body = ",".join(f'"{name}":{n}' for name, n in zip(FIELDS, self.counts))
        return f'{{{body},"watchers":{self.watchers}}}'.encode()
