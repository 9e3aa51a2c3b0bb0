"""Record framing and the segmented WAL: round trips, overwrites, rotation, torn tails, corruption."""

from __future__ import annotations

import errno
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from structlog.testing import CapturingLogger

from trionode.storage import wal as wal_module
from trionode.storage.errors import WalCorruptError
from trionode.storage.records import HEADER_SIZE, Entry, HardState, encode_batch, encode_hard_state, scan
from trionode.storage.wal import StorageFailedError, Wal, segment_name

entries_st = st.lists(st.tuples(st.integers(0, 2**64 - 1), st.binary(max_size=64)), max_size=8)


def batch(first: int, n: int, term: int = 1, size: int = 8) -> list[Entry]:
    return [Entry(term, i, bytes([i % 251]) * size) for i in range(first, first + n)]


def open_wal(directory: Path, snap_index: int = 0, segment_bytes: int = 1 << 20):
    log = CapturingLogger()
    wal, hs, entries = Wal.open(directory, log, snap_index, segment_bytes=segment_bytes)
    return wal, hs, entries, log


def warnings(log: CapturingLogger) -> list[tuple[str, dict]]:
    return [(call.args[0], call.kwargs) for call in log.calls if call.method_name == "warning"]


def only_segment(directory: Path) -> Path:
    (path,) = directory.iterdir()
    return path


# --- records -----------------------------------------------------------------------------


@given(entries_st, st.one_of(st.none(), st.tuples(*[st.integers(0, 2**64 - 1)] * 3)))
def test_batch_round_trip(pairs, hs):
    entries = [Entry(term, i + 1, data) for i, (term, data) in enumerate(pairs)]
    hard_state = HardState(*hs) if hs else None
    records, damage = scan(encode_batch(entries, hard_state))
    assert damage is None
    assert [rec for _, rec in records] == entries + ([hard_state] if hard_state else [])


def test_every_truncation_of_a_buffer_is_a_torn_tail():
    buf = encode_batch(batch(1, 3), HardState(1, 1, 3))
    whole, _ = scan(buf)
    for cut in range(len(buf)):
        records, damage = scan(buf[:cut])
        if damage is None:  # cut on a record boundary
            assert cut in [0] + [off for off, _ in whole]
            continue
        assert damage.torn
        assert records == [(off, rec) for off, rec in whole if off < damage.offset]
        assert damage.offset <= cut


def test_zero_tail_is_torn_but_flipped_header_before_data_is_not():
    buf = encode_batch(batch(1, 2), None)
    _, damage = scan(buf + bytes(4096))
    assert damage is not None and damage.torn and damage.offset == len(buf)
    assert damage.reason == "zero-filled tail"
    flipped = bytearray(buf)
    flipped[1] ^= 0x40  # the length of the first record
    _, damage = scan(bytes(flipped))
    assert damage is not None and not damage.torn and damage.offset == 0
    assert "header checksum" in damage.reason


# --- WAL round trips -----------------------------------------------------------------------


def test_fresh_wal_is_empty_and_starts_with_a_segment(tmp_path):
    wal, hs, entries, _ = open_wal(tmp_path)
    assert (hs, entries, wal.last_index) == (HardState(), [], 0)
    assert [p.name for p in wal.segment_paths] == [segment_name(0, 1)]
    wal.close()


def test_round_trip_and_latest_hard_state_wins(tmp_path):
    wal, *_ = open_wal(tmp_path)
    wal.append(batch(1, 5), HardState(1, 7, 2))
    wal.append([], HardState(2, 0, 4))
    wal.append(batch(6, 2))
    wal.sync()
    wal.close()
    wal, hs, entries, log = open_wal(tmp_path)
    assert hs == HardState(2, 0, 4)
    assert entries == batch(1, 7)
    assert warnings(log) == []
    wal.close()


def test_each_batch_is_one_write(tmp_path, monkeypatch):
    wal, *_ = open_wal(tmp_path)
    writes = []
    real = wal_module.write_all
    monkeypatch.setattr(wal_module, "write_all", lambda fd, buf: (writes.append(len(buf)), real(fd, buf)))
    wal.append(batch(1, 100), HardState(1, 1, 1))
    assert writes == [len(encode_batch(batch(1, 100), HardState(1, 1, 1)))]
    wal.close()


def test_overwrite_of_a_suffix(tmp_path):
    wal, *_ = open_wal(tmp_path)
    wal.append(batch(1, 10, term=1))
    wal.append(batch(6, 2, term=2))  # a new leader replaces 6..10 with 6..7
    assert wal.last_index == 7
    wal.close()
    wal, _, entries, _ = open_wal(tmp_path)
    assert entries == batch(1, 5, term=1) + batch(6, 2, term=2)
    wal.append(batch(8, 1, term=3))
    wal.close()
    assert open_wal(tmp_path)[2] == batch(1, 5, term=1) + batch(6, 2, term=2) + batch(8, 1, term=3)


def test_append_rejects_gaps_and_disorder(tmp_path):
    wal, *_ = open_wal(tmp_path)
    wal.append(batch(1, 3))
    with pytest.raises(ValueError, match="index 5"):
        wal.append(batch(5, 1))
    with pytest.raises(ValueError, match="contiguous"):
        wal.append([Entry(1, 4, b""), Entry(1, 6, b"")])
    wal.compact(2)
    with pytest.raises(ValueError, match="index 2"):
        wal.append(batch(2, 1))
    wal.close()
    with pytest.raises(ValueError, match="closed"):
        wal.append(batch(4, 1))


def test_many_appends_and_rotations(tmp_path):
    wal, *_ = open_wal(tmp_path, segment_bytes=1000)
    for first in range(1, 2001, 10):
        wal.append(batch(first, 10, term=first // 500 + 1, size=first % 13), HardState(first // 500 + 1, 1, first))
    wal.sync()
    names = [p.name for p in wal.segment_paths]
    wal.close()
    assert len(names) > 20
    assert sorted(names) == names == sorted(p.name for p in tmp_path.iterdir())
    firsts = [int(name[17:33], 16) for name in names]
    assert firsts[0] == 1 and firsts == sorted(firsts)
    for path, first in zip(wal.segment_paths[1:], firsts[1:]):
        records, damage = scan(path.read_bytes())
        assert damage is None and isinstance(records[0][1], HardState)  # every segment starts with it
        assert records[1][1].index == first
    wal, hs, entries, _ = open_wal(tmp_path, segment_bytes=1000)
    assert [e.index for e in entries] == list(range(1, 2001))
    assert entries[-1] == batch(1991, 10, term=4, size=1991 % 13)[-1]
    assert hs == HardState(4, 1, 1991)
    wal.close()


def test_overwrite_across_segments(tmp_path):
    wal, *_ = open_wal(tmp_path, segment_bytes=300)
    for first in range(1, 41, 4):
        wal.append(batch(first, 4, term=1))
    wal.append(batch(5, 3, term=2))  # lands in the newest segment, supersedes older ones
    wal.close()
    assert len(list(tmp_path.iterdir())) > 3
    assert open_wal(tmp_path)[2] == batch(1, 4, term=1) + batch(5, 3, term=2)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(1, 5), st.booleans()), min_size=1, max_size=25))
def test_recovery_matches_a_list_model(ops):
    """Random overwrites, rotations and reopenings: recovery always yields the model's log."""
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        wal, *_ = open_wal(directory, segment_bytes=200)
        model: list[Entry] = []
        for term, (back, n, reopen) in enumerate(ops, start=1):
            first = max(1, len(model) + 1 - back)
            new = batch(first, n, term=term)
            wal.append(new, HardState(term, 0, 0))
            model = model[: first - 1] + new
            if reopen:
                wal.close()
                wal, hs, entries, _ = open_wal(directory, segment_bytes=200)
                assert entries == model and hs.term == term
        wal.close()
        assert open_wal(directory)[2] == model


# --- torn tails --------------------------------------------------------------------------


def test_torn_last_record_at_every_offset(tmp_path):
    wal, *_ = open_wal(tmp_path)
    wal.append(batch(1, 3), HardState(1, 1, 3))
    wal.close()
    path = only_segment(tmp_path)
    good = path.read_bytes()
    last = encode_batch(batch(4, 1, size=40), None)
    for cut in range(len(last)):
        path.write_bytes(good + last[:cut])
        wal, hs, entries, log = open_wal(tmp_path)
        assert (hs, entries) == (HardState(1, 1, 3), batch(1, 3))
        if cut:
            ((event, fields),) = warnings(log)
            assert event == "wal_torn_tail_truncated"
            assert (fields["path"], fields["offset"], fields["dropped_bytes"]) == (str(path), len(good), cut)
        else:
            assert warnings(log) == []
        assert path.read_bytes() == good
        wal.append(batch(4, 2, term=2))  # the node continues after the truncation
        wal.close()
        assert open_wal(tmp_path)[2] == batch(1, 3) + batch(4, 2, term=2)


def test_bad_checksum_of_the_very_last_record_is_a_torn_tail(tmp_path):
    wal, *_ = open_wal(tmp_path)
    wal.append(batch(1, 3))
    wal.close()
    path = only_segment(tmp_path)
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data) + bytes(512))  # and a zeroed sector after it
    wal, _, entries, log = open_wal(tmp_path)
    assert entries == batch(1, 2)
    ((event, fields),) = warnings(log)
    assert event == "wal_torn_tail_truncated" and fields["reason"] == "payload checksum mismatch"
    wal.close()


def test_preallocated_zero_tail_is_truncated(tmp_path):
    wal, *_ = open_wal(tmp_path)
    wal.append(batch(1, 2))
    wal.close()
    path = only_segment(tmp_path)
    size = path.stat().st_size
    with path.open("ab") as f:
        f.write(bytes(1 << 16))
    wal, _, entries, log = open_wal(tmp_path)
    assert entries == batch(1, 2)
    assert warnings(log)[0][1]["offset"] == size and warnings(log)[0][1]["reason"] == "zero-filled tail"
    assert path.stat().st_size == size
    wal.close()


def test_newest_segment_torn_at_its_start_gets_the_hard_state_back(tmp_path):
    wal, *_ = open_wal(tmp_path, segment_bytes=100)
    wal.append(batch(1, 5), HardState(3, 1, 5))
    wal.append(batch(6, 1))  # rotates: the new segment starts with the hard state
    wal.close()
    newest = wal.segment_paths[-1]
    newest.write_bytes(newest.read_bytes()[:HEADER_SIZE - 1])
    wal, hs, entries, log = open_wal(tmp_path, segment_bytes=100)
    assert (hs, entries) == (HardState(3, 1, 5), batch(1, 5))
    wal.close()
    assert scan(newest.read_bytes()) == ([(0, HardState(3, 1, 5))], None)


# --- corruption ----------------------------------------------------------------------------


def record_offsets(path: Path) -> list[int]:
    records, damage = scan(path.read_bytes())
    assert damage is None
    return [offset for offset, _ in records]


def test_flipped_byte_in_the_middle_is_corruption_at_that_record(tmp_path):
    wal, *_ = open_wal(tmp_path)
    wal.append(batch(1, 6, size=20), HardState(1, 1, 6))
    wal.close()
    path = only_segment(tmp_path)
    pristine = path.read_bytes()
    offsets = record_offsets(path)
    start, end = offsets[3], offsets[4]  # the entry at index 3
    for pos in range(start, end):
        data = bytearray(pristine)
        data[pos] ^= 0x01
        path.write_bytes(bytes(data))
        with pytest.raises(WalCorruptError) as info:
            open_wal(tmp_path)
        assert (info.value.path, info.value.offset) == (str(path), start), pos
        assert path.read_bytes() == bytes(data)  # nothing was truncated


def test_damage_in_an_older_segment_is_corruption_even_at_its_end(tmp_path):
    wal, *_ = open_wal(tmp_path, segment_bytes=100)
    for first in range(1, 13, 3):
        wal.append(batch(first, 3))
    wal.close()
    older = wal.segment_paths[0]
    data = older.read_bytes()
    last_record = record_offsets(older)[-1]
    older.write_bytes(data[:-1])
    with pytest.raises(WalCorruptError) as info:
        open_wal(tmp_path, segment_bytes=100)
    assert info.value.path == str(older)
    assert info.value.offset == last_record
    older.write_bytes(data)
    assert [e.index for e in open_wal(tmp_path, segment_bytes=100)[2]] == list(range(1, 13))


def test_missing_segment_and_index_gap_are_corruption(tmp_path):
    wal, *_ = open_wal(tmp_path, segment_bytes=100)
    for first in range(1, 13, 3):
        wal.append(batch(first, 3))
    wal.close()
    paths = wal.segment_paths
    assert len(paths) >= 3
    paths[1].unlink()
    with pytest.raises(WalCorruptError, match="segment 1 is missing") as info:
        open_wal(tmp_path, segment_bytes=100)
    assert info.value.path == str(paths[2])
    # Same log with the segments renumbered: now only the indexes show the hole.
    for seq, path in enumerate(paths[2:], start=1):
        path.rename(path.with_name(segment_name(seq, int(path.name[17:33], 16))))
    with pytest.raises(WalCorruptError, match="gap") as info:
        open_wal(tmp_path, segment_bytes=100)
    assert info.value.offset == record_offsets(Path(info.value.path))[1]  # after the hard state


def test_log_starting_after_index_one_without_a_snapshot_is_corruption(tmp_path):
    (tmp_path / segment_name(0, 5)).write_bytes(encode_hard_state(HardState()) + encode_batch(batch(5, 2), None))
    with pytest.raises(WalCorruptError, match="entry 5 leaves a gap after index 0"):
        open_wal(tmp_path)
    assert [e.index for e in open_wal(tmp_path, snap_index=4)[2]] == [5, 6]


# --- OS errors ---------------------------------------------------------------------------


def test_write_error_propagates_and_poisons(tmp_path, monkeypatch):
    wal, *_ = open_wal(tmp_path)
    wal.append(batch(1, 1))

    def full(fd, buf):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(wal_module, "write_all", full)
    with pytest.raises(OSError) as info:
        wal.append(batch(2, 1))
    assert info.value.errno == errno.ENOSPC
    monkeypatch.undo()
    with pytest.raises(StorageFailedError):
        wal.append(batch(2, 1))
    with pytest.raises(StorageFailedError):
        wal.sync()
    wal.close()
    assert open_wal(tmp_path)[2] == batch(1, 1)


def test_fsync_error_propagates_and_poisons(tmp_path, monkeypatch):
    wal, *_ = open_wal(tmp_path)
    wal.append(batch(1, 1))

    def eio(fd):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(wal_module, "datasync", eio)
    with pytest.raises(OSError) as info:
        wal.sync()
    assert info.value.errno == errno.EIO
    monkeypatch.undo()
    with pytest.raises(StorageFailedError):
        wal.append(batch(2, 1))
    wal.close()


def test_failed_rotation_poisons(tmp_path, monkeypatch):
    wal, *_ = open_wal(tmp_path, segment_bytes=10)
    wal.append(batch(1, 1))

    def full(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(wal_module, "_create_segment", full)
    with pytest.raises(OSError):
        wal.append(batch(2, 1))  # the segment is past 10 bytes: this append rotates
    monkeypatch.undo()
    with pytest.raises(StorageFailedError):
        wal.append(batch(2, 1))
    wal.close()
    assert open_wal(tmp_path)[2] == batch(1, 1)
