"""WAL files read the way trionode/storage/records.py documents them, independently of that code."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

HEADER = 16  # u32 length | u8 type | 3 zero bytes | u32 payload crc | u32 header crc


def wal_segments(wal_dir: Path) -> list[Path]:
    return sorted(wal_dir.glob("*.wal"))


def wal_records(data: bytes) -> list[tuple[int, int, int]]:
    """(offset, type, length) of each record, checking both CRCs; AssertionError on damage."""
    records, pos = [], 0
    while pos < len(data):
        assert len(data) - pos >= HEADER, f"short header at {pos}"
        length, rtype, pcrc, hcrc = struct.unpack_from("<IB3xII", data, pos)
        assert zlib.crc32(data[pos:pos + 12]) == hcrc, f"header crc at {pos}"
        payload = data[pos + HEADER:pos + HEADER + length]
        assert len(payload) == length and zlib.crc32(payload) == pcrc, f"payload at {pos}"
        records.append((pos, rtype, length))
        pos += HEADER + length
    return records


def tree_bytes(root: Path) -> dict[str, bytes]:
    """Every file under `root` (relative path -> contents): a byte-exact picture of a data dir."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
