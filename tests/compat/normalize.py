"""Make two servers' transcripts comparable without hiding real differences.

Index values differ between servers, so each one is replaced by a symbol (<i1>, <i2>, ...)
in order of first appearance, per sequence and per server: "this write's index equals
that node's modifiedIndex" still compares, absolute values do not. JSON is re-emitted
from its *raw tokens* (strings keep their exact escaping, objects their field order), so
a byte comparison after normalization still checks escaping and key order. Unsorted
`nodes` arrays are put in key order first (Go map order is random); `expiration` is
checked for RFC3339Nano form and plausibility and then replaced by a placeholder; `ttl`
values are pulled out and compared with a tolerance of one second.
"""

from __future__ import annotations

import dataclasses
import datetime
import difflib
import json
import re
import urllib.parse

from .harness import Response

INDEX_FIELDS = {"modifiedIndex", "createdIndex", "index"}
SHOWN_HEADERS = ("content-type", "location", "allow", "transfer-encoding")
PRESENT_HEADERS = ("x-raft-index", "x-raft-term", "x-etcd-cluster-id", "content-length")
SHAPE_KEEP = {"state", "health", "message"}        # shape mode still compares these values
TRUE = {"1", "t", "T", "TRUE", "true", "True"}

_TOKEN = re.compile(r'[ \t\r\n]*(?:("(?:[^"\\]|\\.)*")|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)'
                    r'|(true|false|null)|([{}\[\],:]))', re.S)
_INORDER = re.compile(r"/(\d{20})(?=[/\"\s]|$)")
_ADDR = re.compile(r"127\.0\.0\.1:\d+")
_RFC3339NANO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d*[1-9])?Z$")


# ---------------------------------------------------------------- raw-token JSON

class Obj(list):
    """JSON object as [(raw key token, value)] in the order it was written."""


class Arr(list):
    pass


@dataclasses.dataclass
class Tok:
    raw: str                            # exact text of a scalar, strings with quotes


def parse_raw(text: str):
    pos = 0

    def token():
        nonlocal pos
        m = _TOKEN.match(text, pos)
        if not m:
            raise ValueError(f"bad JSON at {pos}")
        pos = m.end()
        return m

    def value(m):
        s, num, lit, punct = m.groups()
        if punct == "{":
            obj, m = Obj(), token()
            while m.group(4) != "}":
                if m.group(1) is None or token().group(4) != ":":
                    raise ValueError("bad object")
                obj.append((m.group(1), value(token())))
                m = token()
                if m.group(4) == ",":
                    m = token()
            return obj
        if punct == "[":
            arr, m = Arr(), token()
            while m.group(4) != "]":
                arr.append(value(m))
                m = token()
                if m.group(4) == ",":
                    m = token()
            return arr
        if punct:
            raise ValueError(f"unexpected {punct!r}")
        return Tok(s or num or lit)

    result = value(token())
    if text[pos:].strip():
        raise ValueError("trailing data")
    return result


def emit(v) -> str:
    if isinstance(v, Obj):
        return "{" + ",".join(f"{k}:{emit(x)}" for k, x in v) + "}"
    if isinstance(v, Arr):
        return "[" + ",".join(emit(x) for x in v) + "]"
    return v.raw


def _name(raw_key: str) -> str:
    return json.loads(raw_key)


def _field(obj: Obj, name: str):
    for k, v in obj:
        if _name(k) == name:
            return v
    return None


def _sort_key(node) -> str:
    key = _field(node, "key") if isinstance(node, Obj) else None
    return key.raw if isinstance(key, Tok) else emit(node)


# ---------------------------------------------------------------- normalizer

@dataclasses.dataclass
class Normalized:
    text: str                           # status, headers and body, ready to diff
    ttls: list[int]

    def matches(self, other: "Normalized") -> bool:
        return (self.text == other.text and len(self.ttls) == len(other.ttls)
                and all(abs(a - b) <= 1 for a, b in zip(self.ttls, other.ttls)))


class Normalizer:
    """Symbol tables for one sequence on one server."""

    def __init__(self, prefix: str = ""):
        self.prefix = prefix
        self.symbols: dict[int, str] = {}
        self.ttls: list[int] = []

    def sym(self, value: int | str) -> str:
        value = int(value)
        if value == 0:
            return "0"                  # parse errors report index 0: keep it literal
        if value not in self.symbols:
            self.symbols[value] = f"<i{len(self.symbols) + 1}>"
        return self.symbols[value]

    def ttl(self, value: int | str) -> str:
        self.ttls.append(int(value))
        return "<ttl>"

    # -- text ------------------------------------------------------------
    def text(self, s: str) -> str:
        s = _ADDR.sub("<addr>", s)
        return _INORDER.sub(lambda m: "/" + self.sym(m.group(1)), s)

    def cause(self, s: str) -> str:
        s = re.sub(r"\[(\d+)/(\d+)\]",
                   lambda m: f"[{self.sym(m.group(1))}/{self.sym(m.group(2))}]", s)
        s = re.sub(r"\[(\d+) != (\d+)\]",
                   lambda m: f"[{self.sym(m.group(1))} != {self.sym(m.group(2))}]", s)
        return self.text(s)

    # -- JSON ------------------------------------------------------------
    def tree(self, v, *, keep_order: bool, now: float, shape: bool):
        if isinstance(v, Arr):
            return Arr(self.tree(x, keep_order=keep_order, now=now, shape=shape) for x in v)
        if isinstance(v, Tok):
            if shape:
                return Tok('"<str>"' if v.raw.startswith('"') else
                           "<num>" if v.raw[0] in "-0123456789" else v.raw)
            return Tok(self.text(v.raw)) if v.raw.startswith('"') else v
        out = Obj()
        ttl = _field(v, "ttl")
        for k, x in v:
            name = _name(k)
            if name == "nodes" and isinstance(x, Arr) and not keep_order:
                x = Arr(sorted(x, key=_sort_key))
            if shape and name in SHAPE_KEEP:
                out.append((k, x))
            elif shape and name in ("leader", "followers"):
                out.append((k, self.tree(x, keep_order=True, now=now, shape=True)))
            elif name in INDEX_FIELDS and isinstance(x, Tok) and x.raw.isdigit():
                out.append((k, Tok(self.sym(x.raw))))
            elif name == "ttl" and isinstance(x, Tok) and x.raw.lstrip("-").isdigit():
                out.append((k, Tok(self.ttl(x.raw))))
            elif name == "expiration" and isinstance(x, Tok) and x.raw.startswith('"'):
                out.append((k, Tok(check_expiration(json.loads(x.raw), ttl, now))))
            elif name == "cause" and isinstance(x, Tok):
                out.append((k, Tok(self.cause(x.raw))))
            else:
                out.append((k, self.tree(x, keep_order=keep_order, now=now, shape=shape)))
        return out

    def body(self, body: bytes, *, keep_order: bool, now: float, shape: bool,
             only_prefix: bool) -> str:
        text = body.decode("utf-8", errors="backslashreplace")
        if not text.strip():
            return repr(text)
        lines = text.split("\n")
        newline = lines[-1] == ""
        if newline:
            lines.pop()
        out = []
        for line in lines:
            if not line:
                out.append("")
                continue
            try:
                tree = parse_raw(line)
            except ValueError:
                out.append("TEXT " + self.text(line))
                continue
            note = "" if emit(tree) == line else "  <NOT COMPACT: " + line + ">"
            if only_prefix:
                tree = self.keep_prefix(tree)
            out.append("JSON " + emit(self.tree(tree, keep_order=keep_order, now=now,
                                                shape=shape)) + note)
        out.append("<ends with a newline>" if newline else "<no newline at the end>")
        return "\n".join(out)

    def keep_prefix(self, tree):
        """Root listings: drop top-level entries other sequences created."""
        node = _field(tree, "node") if isinstance(tree, Obj) else None
        nodes = _field(node, "nodes") if isinstance(node, Obj) else None
        if isinstance(nodes, Arr):
            keep = [n for n in nodes if _sort_key(n) == json.dumps(self.prefix)]
            nodes[:] = keep
        return tree

    # -- one response ----------------------------------------------------
    def response(self, resp: Response, *, query: str = "", shape: bool = False,
                 only_prefix: bool = False) -> Normalized:
        self.ttls = []
        lines = [f"status {resp.status} {resp.reason}"]
        if resp.error:
            lines.append(f"!! {resp.error}{'' if resp.complete else ' (incomplete)'}")
        headers = {k.lower(): v for k, v in resp.headers}
        if only_prefix:                 # Go chunks bodies > 2 KiB; size depends on others' keys
            headers.pop("transfer-encoding", None)
            headers.pop("content-length", None)
        for name in sorted(headers):
            if name in SHOWN_HEADERS or name.startswith("access-control-"):
                lines.append(f"{name}: {self.text(headers[name])}")
            elif name in PRESENT_HEADERS:
                lines.append(f"{name}: <present>")
            elif name == "x-etcd-index":
                value = headers[name]
                lines.append(f"{name}: {self.sym(value) if value.isdigit() else value}")
        params = urllib.parse.parse_qs(query, keep_blank_values=True)
        keep_order = params.get("sorted", ["false"])[0] in TRUE
        lines.append(self.body(resp.body, keep_order=keep_order, now=resp.done_at,
                               shape=shape, only_prefix=only_prefix))
        return Normalized("\n".join(lines), self.ttls)


def check_expiration(value: str, ttl, now: float) -> str:
    """RFC3339Nano in UTC, and close to now + ttl (or to now when no ttl is shown)."""
    if not _RFC3339NANO.match(value):
        return json.dumps(f"<BAD FORMAT expiration {value}>")
    whole, _, frac = value[:-1].partition(".")
    stamp = datetime.datetime.fromisoformat(whole).replace(tzinfo=datetime.timezone.utc)
    at = stamp.timestamp() + float("0." + (frac or "0"))
    expected = now + (int(ttl.raw) if isinstance(ttl, Tok) and ttl.raw.isdigit() else 0)
    slack = 3.0 if isinstance(ttl, Tok) else 10.0
    if abs(at - expected) > slack:
        return json.dumps(f"<IMPLAUSIBLE expiration {value}: {at - expected:+.1f}s off>")
    return '"<expiration>"'


# ---------------------------------------------------------------- comparing

def describe(step) -> str:
    fields = dataclasses.asdict(step)
    main = " ".join(str(fields.pop(k)) for k in ("method", "target") if k in fields)
    extra = ", ".join(f"{k}={v!r}" for k, v in fields.items()
                      if v not in ("", (), None, False) and k not in ("timeout",)
                      and not (k == "headers" and v == (("Content-Type",
                                                         "application/x-www-form-urlencoded"),)))
    return f"{type(step).__name__} {main} {extra}".strip()


def _query_of(step) -> str:
    target = getattr(step, "target", "")
    return target.partition("?")[2]


def normalize_run(steps, results, prefix: str) -> list:
    """One entry per step: Normalized, a status set (Bulk) or None."""
    norm, out = Normalizer(prefix), []
    for step, res in zip(steps, results):
        if isinstance(res, Response):
            out.append(norm.response(res, query=_query_of(step),
                                     shape=getattr(step, "shape", False),
                                     only_prefix=getattr(step, "only_prefix", False)))
        else:
            out.append(res)
    return out


def _indent(text: str) -> str:
    return "\n".join("    " + ln for ln in text.splitlines())


def assert_same(name: str, steps, ref_results, tgt_results, ref, tgt, prefix: str) -> None:
    a, b = normalize_run(steps, ref_results, prefix), normalize_run(steps, tgt_results, prefix)
    problems = []
    for i, (step, x, y) in enumerate(zip(steps, a, b)):
        if isinstance(x, Normalized) and isinstance(y, Normalized):
            if x.matches(y):
                continue
            diff = "\n".join(difflib.unified_diff(x.text.splitlines(), y.text.splitlines(),
                                                  "reference", "target", lineterm="", n=1))
            ttl = "" if x.ttls == y.ttls else f"\n  ttls: reference {x.ttls} target {y.ttls}"
            problems.append(f"--- step {i}: {describe(step)}\n  reference ({ref.kind}):\n"
                            f"{_indent(x.text)}\n  target ({tgt.kind}):\n{_indent(y.text)}\n"
                            f"  diff:\n{_indent(diff)}{ttl}")
        elif x != y:
            problems.append(f"--- step {i}: {describe(step)}\n  reference: {x!r}\n"
                            f"  target:    {y!r}")
    if problems:
        listing = "\n".join(f"  {i}: {describe(s)}" for i, s in enumerate(steps))
        raise AssertionError(
            f"sequence {name!r} (prefix {prefix}): {len(problems)} of {len(steps)} steps "
            f"differ (reference {ref.kind} {ref.url}, target {tgt.kind} {tgt.url})\n"
            f"steps:\n{listing}\n" + "\n".join(problems))
