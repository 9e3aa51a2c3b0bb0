"""JSON strings written the way Go's encoding/json writes them (v2-spec §0).

Go escapes `<`, `>`, `&`, U+2028 and U+2029, writes control characters other than
`\\n` `\\r` `\\t` as `\\u00XX`, keeps other non-ASCII raw, and turns invalid UTF-8 into
the escape `\\ufffd`. Values reach us as str decoded with 'surrogateescape', so a lone
surrogate here is exactly an invalid byte from the client.
"""

from __future__ import annotations

import re
from json.encoder import encode_basestring as _c_quote  # C speed; non-ASCII stays raw

__all__ = ["go_float", "quote"]

# The characters where Go's output differs from Python's json module.
_GO_ONLY = re.compile("[<>&\u2028\u2029\x08\x0c\ud800-\udfff]")


def _table() -> dict[int, str]:
    table = {c: f"\\u{c:04x}" for c in range(0x20)}
    table.update({0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t", 0x22: '\\"', 0x5C: "\\\\"})
    for c in (0x3C, 0x3E, 0x26, 0x2028, 0x2029):
        table[c] = f"\\u{c:04x}"
    for c in range(0xD800, 0xE000):
        table[c] = "\\ufffd"
    return table


_TABLE = _table()


def quote(text: str) -> str:
    """`text` as a quoted JSON string, byte for byte as Go would write it."""
    if _GO_ONLY.search(text) is None:
        return _c_quote(text)
    return '"' + text.translate(_TABLE) + '"'


def go_float(value: float) -> str:
    """A float as Go's encoding/json writes it (integral values without '.0')."""
    if value == int(value) and abs(value) < 1e21:
        return str(int(value))
    return repr(value)
