"""The Storage facade: recovery = snapshot + later entries, compaction, snapshot files, data dir."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from structlog.testing import CapturingLogger

from trionode.storage import DataDir, Entry, HardState, Recovered, Snapshot, Storage, member_id_for
from trionode.storage.errors import DataDirError, WalCorruptError
from trionode.storage.snapshot import snapshot_name


def batch(first: int, n: int, term: int = 1) -> list[Entry]:
    return [Entry(term, i, b"cmd-%d" % i) for i in range(first, first + n)]


def open_storage(data_dir: Path, segment_bytes: int = 1 << 20) -> tuple[Storage, Recovered, CapturingLogger]:
    log = CapturingLogger()
    storage, recovered = Storage.open(data_dir, log, segment_bytes=segment_bytes)
    return storage, recovered, log


def reopen(data_dir: Path, segment_bytes: int = 1 << 20) -> Recovered:
    storage, recovered, _ = open_storage(data_dir, segment_bytes)
    storage.close()
    return recovered


def wal_files(data_dir: Path) -> list[str]:
    return sorted(p.name for p in (data_dir / "member" / "wal").iterdir())


def snap_files(data_dir: Path) -> list[str]:
    return sorted(p.name for p in (data_dir / "member" / "snap").iterdir())


def test_fresh_data_dir(tmp_path):
    storage, recovered, _ = open_storage(tmp_path)
    assert recovered == Recovered(None, HardState(), [])
    assert (tmp_path / "member" / "wal").is_dir() and (tmp_path / "member" / "snap").is_dir()
    storage.close()


def test_round_trip(tmp_path):
    storage, *_ = open_storage(tmp_path)
    storage.append(batch(1, 3), HardState(1, 5, 0))
    storage.append(batch(4, 1), HardState(1, 5, 4))
    storage.sync()
    storage.close()
    assert reopen(tmp_path) == Recovered(None, HardState(1, 5, 4), batch(1, 4))


def fill(storage: Storage, upto: int, per_batch: int = 5) -> None:
    for first in range(1, upto + 1, per_batch):
        storage.append(batch(first, per_batch), HardState(1, 1, first + per_batch - 1))
    storage.sync()


def test_snapshot_compacts_exactly_the_covered_segments(tmp_path):
    storage, *_ = open_storage(tmp_path, segment_bytes=300)
    fill(storage, 100)
    before = wal_files(tmp_path)
    firsts = [int(name[17:33], 16) for name in before]
    assert len(before) > 5
    # Segment k may go once the snapshot reaches the last index before segment k+1 begins.
    boundary = firsts[3] - 1
    storage.save_snapshot(Snapshot(boundary - 1, 1, b"one short"))
    assert wal_files(tmp_path) == before[2:]
    storage.save_snapshot(Snapshot(boundary, 1, b"state"))
    assert wal_files(tmp_path) == before[3:]
    assert snap_files(tmp_path) == [snapshot_name(1, boundary - 1), snapshot_name(1, boundary)]
    storage.append(batch(101, 2), HardState(1, 1, 102))
    storage.close()
    recovered = reopen(tmp_path, segment_bytes=300)
    assert recovered.snapshot == Snapshot(boundary, 1, b"state")
    assert (recovered.hard_state, recovered.entries) == (HardState(1, 1, 102), batch(boundary + 1, 102 - boundary))


def test_compaction_never_drops_the_newest_segment_or_the_hard_state(tmp_path):
    storage, *_ = open_storage(tmp_path, segment_bytes=300)
    fill(storage, 50)
    storage.append([], HardState(7, 3, 50))
    storage.save_snapshot(Snapshot(50, 1, b"all"))
    assert len(wal_files(tmp_path)) == 1
    storage.close()
    assert reopen(tmp_path, segment_bytes=300) == Recovered(Snapshot(50, 1, b"all"), HardState(7, 3, 50), [])


def test_only_the_two_newest_snapshots_are_kept(tmp_path):
    storage, *_ = open_storage(tmp_path)
    fill(storage, 40)
    for index in (10, 20, 30, 35):
        storage.save_snapshot(Snapshot(index, 1, b"s%d" % index))
    assert snap_files(tmp_path) == [snapshot_name(1, 30), snapshot_name(1, 35)]
    with pytest.raises(ValueError, match="older"):
        storage.save_snapshot(Snapshot(20, 1, b"late"))
    storage.close()
    recovered = reopen(tmp_path)
    assert recovered.snapshot == Snapshot(35, 1, b"s35")
    assert recovered.entries == batch(36, 5)


def test_snapshot_beyond_the_log(tmp_path):
    """A follower installs a leader's snapshot past its own log, then appends after it."""
    storage, *_ = open_storage(tmp_path)
    fill(storage, 10)
    storage.save_snapshot(Snapshot(100, 4, b"leader state"))
    assert storage.last_index == 100
    with pytest.raises(ValueError):
        storage.append(batch(11, 1))
    storage.append(batch(101, 2, term=4), HardState(4, 0, 102))
    storage.close()
    assert reopen(tmp_path) == Recovered(Snapshot(100, 4, b"leader state"), HardState(4, 0, 102), batch(101, 2, 4))


def corrupt(path: Path, at: int = -1) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 0x10
    path.write_bytes(bytes(data))


def test_corrupt_newest_snapshot_without_the_log_behind_it_is_fatal(tmp_path):
    storage, *_ = open_storage(tmp_path, segment_bytes=300)
    fill(storage, 60)
    storage.save_snapshot(Snapshot(20, 1, b"old"))
    storage.save_snapshot(Snapshot(50, 1, b"new"))  # compaction dropped entries 21..~50
    storage.close()
    newest = tmp_path / "member" / "snap" / snapshot_name(1, 50)
    corrupt(newest)
    with pytest.raises(WalCorruptError) as info:
        open_storage(tmp_path, segment_bytes=300)
    assert (info.value.path, info.value.offset, info.value.reason) == (str(newest), 0, "payload checksum mismatch")


def test_corrupt_newest_snapshot_falls_back_when_the_log_covers_it(tmp_path):
    storage, *_ = open_storage(tmp_path)
    fill(storage, 60)
    storage.save_snapshot(Snapshot(20, 1, b"old"))
    storage.close()
    # A newer snapshot whose segments were never dropped (one segment: nothing to drop).
    newest = tmp_path / "member" / "snap" / snapshot_name(1, 50)
    newest.write_bytes((tmp_path / "member" / "snap" / snapshot_name(1, 20)).read_bytes())
    storage, recovered, log = open_storage(tmp_path)
    storage.close()
    assert recovered.snapshot == Snapshot(20, 1, b"old") and recovered.entries == batch(21, 40)
    (call,) = [c for c in log.calls if c.args[0] == "snapshot_corrupt_skipped"]
    assert call.kwargs["path"] == str(newest) and "term 1, index 20" in call.kwargs["reason"]


def test_snapshot_without_any_log_is_corruption(tmp_path):
    storage, *_ = open_storage(tmp_path)
    storage.save_snapshot(Snapshot(5, 1, b"x"))
    storage.close()
    for path in (tmp_path / "member" / "wal").iterdir():
        path.unlink()
    with pytest.raises(WalCorruptError, match="no log segments"):
        open_storage(tmp_path)


def test_leftover_snapshot_tmp_is_removed(tmp_path):
    storage, *_ = open_storage(tmp_path)
    storage.close()
    tmp = tmp_path / "member" / "snap" / (snapshot_name(1, 9) + ".tmp")
    tmp.write_bytes(b"half a snapshot")
    _, recovered, log = open_storage(tmp_path)
    assert not tmp.exists() and recovered.snapshot is None
    assert log.calls[0].args[0] == "snapshot_tmp_removed"


def test_truncated_only_snapshot_falls_back_to_the_whole_log(tmp_path):
    storage, *_ = open_storage(tmp_path)
    fill(storage, 10)
    storage.save_snapshot(Snapshot(5, 1, b"x" * 100))
    storage.close()
    path = tmp_path / "member" / "snap" / snapshot_name(1, 5)
    path.write_bytes(path.read_bytes()[:-10])
    storage, recovered, log = open_storage(tmp_path)
    storage.close()
    assert recovered == Recovered(None, HardState(1, 1, 10), batch(1, 10))
    (call,) = [c for c in log.calls if c.args[0] == "snapshot_corrupt_skipped"]
    assert call.kwargs["path"] == str(path) and "file holds" in call.kwargs["reason"]


# --- data dir ------------------------------------------------------------------------------


def test_identity_is_written_once_and_stable(tmp_path):
    with DataDir.open(tmp_path, "n1", "tok") as dd:
        ids = (dd.member_id, dd.cluster_id)
        assert dd.member_id == member_id_for("n1", "tok") and dd.member_dir == tmp_path / "member"
    assert 0 < ids[0] < 2**64 and 0 < ids[1] < 2**64
    with DataDir.open(tmp_path, "n1", "tok") as dd:
        assert (dd.member_id, dd.cluster_id) == ids
    assert member_id_for("n2", "tok") != ids[0] and member_id_for("n1", "other") != ids[0]


@pytest.mark.parametrize(("name", "token", "words"), [
    ("n2", "tok", ["name", "'n1'", "'n2'"]),
    ("n1", "tok2", ["cluster token", "'tok'", "'tok2'"]),
])
def test_identity_mismatch(tmp_path, name, token, words):
    DataDir.open(tmp_path, "n1", "tok").close()
    with pytest.raises(DataDirError) as info:
        DataDir.open(tmp_path, name, token)
    for word in words:
        assert word in str(info.value)
    DataDir.open(tmp_path, "n1", "tok").close()  # the failed open released the lock


def test_unreadable_identity(tmp_path):
    DataDir.open(tmp_path, "n1", "tok").close()
    (tmp_path / "member" / "identity").write_text('{"name": "n1"}')
    with pytest.raises(DataDirError, match="lacks or mistypes cluster_token, member_id, cluster_id"):
        DataDir.open(tmp_path, "n1", "tok")
    (tmp_path / "member" / "identity").write_text("not json")
    with pytest.raises(DataDirError, match="unreadable"):
        DataDir.open(tmp_path, "n1", "tok")


def test_lock(tmp_path):
    dd = DataDir.open(tmp_path, "n1", "tok")
    with pytest.raises(DataDirError, match="data dir is in use by another process"):
        DataDir.open(tmp_path, "n1", "tok")
    probe = (
        "import fcntl, os, sys\n"
        "fd = os.open(sys.argv[1], os.O_RDWR)\n"
        "try:\n    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)\nexcept BlockingIOError:\n    sys.exit(3)\n"
    )
    lock = str(tmp_path / "member" / "lock")
    assert subprocess.run([sys.executable, "-c", probe, lock], timeout=30).returncode == 3
    dd.close()
    assert subprocess.run([sys.executable, "-c", probe, lock], timeout=30).returncode == 0
    DataDir.open(tmp_path, "n1", "tok").close()


def test_identity_file_is_private(tmp_path):
    DataDir.open(tmp_path, "n1", "tok").close()
    assert os.stat(tmp_path / "member" / "identity").st_mode & 0o077 == 0
