"""The command lines of test_ctl_compare.py, as data.

A case is a name and a few steps (ctlrun.Put setup writes over HTTP, ctlrun.Ctl command
lines). Every Ctl runs through etcdctl and through the tool under test; a Ctl with
triggers is a background watch and its Ctl triggers are compared too. {p} is the run's
own key prefix, {mN} the modifiedIndex of the Put at position N (see ctlrun).
"""

from __future__ import annotations

import dataclasses

from .ctlrun import Ctl, Put

# what exec-watch runs: the whole ETCD_WATCH_* environment on one line
ECHO = ("sh", "-c", 'echo "$ETCD_WATCH_ACTION $ETCD_WATCH_KEY [$ETCD_WATCH_VALUE] '
                    'modified-index=$ETCD_WATCH_MODIFIED_INDEX"')
ODD_KEY = "{p}/sp ace/\u00fc\"q'"                 # space, non-ASCII, both quotes
ODD_VALUE = "va\"l \u00fc <&> \t tab \u2028 \\ end"   # Go's json escapes <, >, &, U+2028


@dataclasses.dataclass(frozen=True)
class Case:
    name: str                           # also part of the key prefix: [a-z0-9-]
    steps: tuple
    offline: bool = False               # never reaches the server: one server is enough


def c(*argv: str, **kw) -> Ctl:
    return Ctl(tuple(argv), **kw)


def case(name: str, *steps) -> Case:
    return Case(name, steps)


def offline(name: str, *steps) -> Case:
    return Case(name, steps, offline=True)


DIR = (Put("{p}/d/a", "1"), Put("{p}/d/b", "2"), Put("{p}/d/sub/c", "3"), Put("{p}/d/empty", None))

CASES = [
    # ---- ls
    case("ls-dir", *DIR, c("ls", "{p}/d"), c("ls", "{p}/d/empty")),
    case("ls-recursive", *DIR, c("ls", "-r", "{p}/d"), c("ls", "{p}/d", "--recursive")),
    case("ls-sort", *DIR, c("ls", "--sort", "{p}/d"), c("ls", "--sort", "-r", "-p", "{p}/d")),
    case("ls-p", *DIR, c("ls", "-p", "{p}/d"), c("ls", "--quorum", "{p}/d")),
    case("ls-file", Put("{p}/f", "v"), c("ls", "{p}/f")),
    case("ls-missing", c("ls", "{p}/nope")),
    case("ls-hidden", Put("{p}/h/_secret", "s"), Put("{p}/h/shown", "v"), Put("{p}/h/_hd/x", "x"),
         c("ls", "-r", "{p}/h"), c("ls", "{p}/h/_hd"), c("get", "{p}/h/_secret")),
    case("ls-root", Put("{p}/r", "v"), c("ls", root=True), c("ls", "-p", "/", root=True)),
    case("ls-json", *DIR, c("-o", "json", "ls", "{p}/d"),
         c("-o", "json", "ls", "--sort", "-r", "{p}/d")),
    case("ls-extended", *DIR, c("-o", "extended", "ls", "{p}/d")),
    # ---- get
    case("get-file", Put("{p}/k", "hello world"), c("get", "{p}/k"), c("get", "{p}/k", "--sort"),
         c("get", "--quorum", "{p}/k"), c("get", "-q", "{p}/k")),
    case("get-dir", Put("{p}/d", None), c("get", "{p}/d")),
    case("get-missing", c("get", "{p}/nope"), c("-o", "json", "get", "{p}/nope")),
    case("get-no-key", c("get")),
    case("get-extended", Put("{p}/k", "v"), Put("{p}/t", "v", ttl=300),
         c("-o", "extended", "get", "{p}/k"), c("-o", "extended", "get", "{p}/t")),
    case("get-json", Put("{p}/k", "v"), Put("{p}/t", "v", ttl=300),
         c("-o", "json", "get", "{p}/k"), c("--output", "json", "get", "{p}/t"),
         c("--output=json", "get", "{p}/k")),
    case("get-unknown-output", Put("{p}/k", "v"), Put("{p}/d", None),
         c("-o", "yaml", "get", "{p}/k"), c("-o", "yaml", "get", "{p}/d")),
    # ---- mk
    case("mk-new", c("mk", "{p}/k", "data"), c("get", "{p}/k")),
    case("mk-existing", Put("{p}/k", "v"), c("mk", "{p}/k", "again")),
    case("mk-in-order", Put("{p}/q", None), c("mk", "--in-order", "{p}/q", "first"),
         c("-o", "json", "mk", "--in-order", "{p}/q", "second"), c("ls", "--sort", "{p}/q")),
    case("mk-ttl", c("-o", "extended", "mk", "--ttl", "100", "{p}/k", "v"),
         c("-o", "json", "mk", "{p}/k2", "v", "--ttl", "100")),
    # ---- mkdir
    case("mkdir-new", c("mkdir", "{p}/d"), c("ls", "-p", "{p}")),
    case("mkdir-ttl", c("mkdir", "{p}/d", "--ttl", "120"),
         c("-o", "extended", "mkdir", "--ttl", "120", "{p}/e"),
         c("-o", "json", "mkdir", "{p}/f", "--ttl", "120")),
    case("mkdir-existing", Put("{p}/d", None), c("mkdir", "{p}/d")),
    # ---- set
    case("set-new", c("set", "{p}/k", "v1"), c("-o", "extended", "set", "{p}/k", "v2"),
         c("-o", "json", "set", "{p}/k", "v3")),
    case("set-ttl", c("set", "--ttl", "100", "{p}/k", "v"),
         c("-o", "json", "set", "{p}/k", "w", "--ttl", "200"), c("-o", "extended", "get", "{p}/k")),
    case("set-swap-value", Put("{p}/k", "old"),
         c("set", "--swap-with-value", "old", "{p}/k", "new"),
         c("set", "--swap-with-value", "old", "{p}/k", "newer")),
    case("set-swap-index", Put("{p}/k", "old"),
         c("set", "--swap-with-index", "{m0}", "{p}/k", "new"),
         c("-o", "json", "set", "{p}/k", "newer", "--swap-with-index", "{m0}")),
    case("set-stdin", c("set", "{p}/k", stdin="from stdin"), c("get", "{p}/k"),
         c("set", "{p}/k2", stdin="with a newline\n")),
    case("set-missing-value", c("set", "{p}/k"), c("set", "{p}/k", stdin="")),
    case("set-missing-key", c("set")),
    case("set-on-dir", Put("{p}/d", None), c("set", "{p}/d", "v")),
    # ---- setdir, update, updatedir
    case("setdir", c("setdir", "{p}/d"), c("setdir", "{p}/d"),
         c("-o", "json", "setdir", "{p}/e", "--ttl", "100")),
    case("update", Put("{p}/k", "v"), c("update", "{p}/k", "w"),
         c("-o", "extended", "update", "{p}/k", "x", "--ttl", "100"), c("update", "{p}/nope", "v")),
    case("updatedir", Put("{p}/d", None), Put("{p}/f", "v"),
         c("updatedir", "{p}/d", "--ttl", "100"),
         c("-o", "json", "updatedir", "--ttl", "200", "{p}/d"),
         c("updatedir", "{p}/f", "--ttl", "100"), c("updatedir", "{p}/nope")),
    # ---- rm, rmdir
    case("rm-file", Put("{p}/k", "old value"), c("rm", "{p}/k"), c("rm", "{p}/k")),
    case("rm-dir", Put("{p}/d/a", "1"), Put("{p}/e", None), c("rm", "{p}/d"),
         c("rm", "--dir", "{p}/d"), c("rm", "--dir", "{p}/e"), c("rm", "-r", "{p}/d"),
         c("ls", "{p}")),
    case("rm-with-value", Put("{p}/k", "v"), c("rm", "--with-value", "other", "{p}/k"),
         c("rm", "{p}/k", "--with-value", "v")),
    case("rm-with-index", Put("{p}/k", "v"), Put("{p}/k", "w"),
         c("rm", "--with-index", "{m0}", "{p}/k"), c("rm", "--with-index", "{m1}", "{p}/k")),
    case("rm-output", Put("{p}/k", "v"), Put("{p}/d/x", "x"), c("-o", "extended", "rm", "{p}/k"),
         c("-o", "json", "rm", "-r", "{p}/d")),
    case("rmdir", Put("{p}/e", None), Put("{p}/d/x", "x"), Put("{p}/f", "v"), c("rmdir", "{p}/e"),
         c("rmdir", "{p}/d"), c("rmdir", "{p}/f"), c("rmdir", "{p}/nope")),
    # ---- watch
    case("watch-once", c("watch", "{p}/k", triggers=(Put("{p}/k", "hello"),))),
    case("watch-recursive", Put("{p}/w", None),
         c("watch", "-r", "{p}/w", triggers=(c("set", "{p}/w/a", "by the writer"),))),
    case("watch-skips-dirs", Put("{p}/w", None),
         c("watch", "--recursive", "{p}/w",
           triggers=(Put("{p}/w/sub", None), Put("{p}/w/f", "after the dir")))),
    case("watch-after-index", Put("{p}/k", "v1"), Put("{p}/k", "v2"), Put("{p}/k", "v3"),
         c("watch", "--after-index", "{m0}", "{p}/k"),
         c("-o", "json", "watch", "--after-index", "{m1}", "{p}/k")),
    case("watch-delete", Put("{p}/k", "doomed"),
         c("watch", "{p}/k", triggers=(c("rm", "{p}/k"),))),
    case("watch-forever", c("watch", "--forever", "{p}/k", lines=2,
                            triggers=(Put("{p}/k", "one"), Put("{p}/k", "two")))),
    case("watch-forever-json", Put("{p}/w", None),
         c("-o", "json", "watch", "-f", "-r", "{p}/w", lines=4,
           triggers=(Put("{p}/w/a", "x"), c("rm", "{p}/w/a")))),
    case("watch-interrupted", c("watch", "{p}/k", lines=0), c("watch", "-f", "-r", "{p}", lines=0)),
    case("watch-extended", Put("{p}/w", None),
         c("-o", "extended", "watch", "-r", "{p}/w", triggers=(Put("{p}/w/x", "v"),))),
    # ---- exec-watch
    case("exec-watch-dashdash", Put("{p}/w", None),
         c("exec-watch", "-r", "{p}/w", "--", *ECHO, lines=2,
           triggers=(c("set", "{p}/w/a", "one two"), c("rm", "{p}/w/a")))),
    case("exec-watch-key-last", c("exec-watch", *ECHO, "{p}/k", lines=1,
                                  triggers=(Put("{p}/k", "v 1"),))),
    case("exec-watch-ignores-dirs", Put("{p}/w", None),
         c("exec-watch", "--recursive", *ECHO, "{p}/w", lines=1,
           triggers=(Put("{p}/w/sub", None), Put("{p}/w/sub/f", "in the new dir")))),
    case("exec-watch-after-index", Put("{p}/k", "a"), Put("{p}/k", "b"),
         c("exec-watch", "--after-index", "{m0}", *ECHO, "{p}/k", lines=1)),
    # etcdctl 3.4 honours `key -- cmd` only after -r alone (its flag reordering): with no
    # flag or with --after-index the key is the last argument; --debug shows the key watched
    case("exec-watch-dashdash-quirk", Put("{p}/k", "a"),
         c("--debug", "exec-watch", "{p}/k", "--", "sh", "-c", "echo never", lines=0),
         c("--debug", "exec-watch", "--after-index", "{m0}", "{p}/k", "--", "sh", "-c",
           "echo never", lines=0)),
    case("exec-watch-no-command", c("exec-watch", "{p}/k")),
    case("exec-watch-bad-command",      # etcdctl gives up on the first failed start
         c("exec-watch", "/nonexistent/cmd", "{p}/k", triggers=(Put("{p}/k", "v"),))),
    # ---- members
    case("member-list", c("member", "list")),
    case("cluster-health", c("cluster-health")),
    case("member-remove-unknown", c("member", "remove", "deadbeef")),
    case("member-update-unknown", c("member", "update", "deadbeef", "http://127.0.0.1:9")),
    offline("member-add-usage", c("member", "add")),
    case("member-debug", c("--debug", "cluster-health"), c("--debug", "member", "list"),
         c("-o", "json", "member", "list")),
    offline("member-unreachable", c("--endpoints", "{dead}", "cluster-health", endpoints=False),
            c("--endpoints", "{dead}", "member", "list", endpoints=False)),
    case("member-unknown", c("member", "bogus"), c("member", exit_only=True)),
    # ---- global flags, endpoints, debug
    case("no-sync", Put("{p}/k", "v"), c("--no-sync", "get", "{p}/k")),
    case("debug", Put("{p}/k", "v"), c("--debug", "get", "{p}/k"),
         c("--debug", "--no-sync", "set", "{p}/k", "a b&c=d", "--ttl", "100"),
         c("--debug", "--no-sync", "get", "{p}//k/"),
         c("--debug", "--no-sync", "rm", "--with-index", "{m0}", "{p}/k")),
    case("debug-writes", Put("{p}/k", "v"), Put("{p}/k", "w"),
         c("--debug", "--no-sync", "mk", "--in-order", "--ttl", "100", "{p}/q", "v"),
         c("--debug", "--no-sync", "watch", "--after-index", "{m0}", "{p}/k"),
         c("--debug", "--no-sync", "mkdir", "{p}/d"),
         c("--debug", "--no-sync", "rm", "-r", "--dir", "{p}/d")),
    # key commands sync before they check their arguments, member commands after
    offline("unreachable", c("--endpoints", "{dead}", "get", "{p}/k", endpoints=False),
            c("--debug", "--endpoints", "{dead}", "get", "{p}/k", endpoints=False),
            c("--no-sync", "--endpoints", "{dead}", "set", "{p}/k", "v", endpoints=False),
            c("--endpoints", "{dead}", "get", endpoints=False),
            c("--endpoints", "{dead}", "exec-watch", endpoints=False),
            c("--endpoints", "{dead}", "member", "remove", endpoints=False)),
    case("failover", Put("{p}/k", "v"),
         c("--endpoints", "{dead},{url}", "get", "{p}/k", endpoints=False),
         c("--no-sync", "--endpoints", "{dead},{url}", "get", "{p}/k", endpoints=False)),
    case("endpoint-env", Put("{p}/k", "v"),
         c("get", "{p}/k", env=(("ETCDCTL_ENDPOINTS", "{url}"),), endpoints=False)),
    offline("endpoint-without-scheme", c("--endpoints", "{hp}", "get", "{p}/k", endpoints=False),
            c("--endpoints", "localhost:1", "--no-sync", "get", "{p}/k", endpoints=False)),
    case("legacy-endpoints", Put("{p}/k", "v"), c("-C", "{url}", "get", "{p}/k", endpoints=False),
         c("--peers", "{url}", "get", "{p}/k", endpoints=False),
         c("--endpoint", "{url}", "get", "{p}/k", endpoints=False),
         c("get", "{p}/k", env=(("ETCDCTL_PEERS", "{url}"),), endpoints=False)),
    offline("timeouts", c("--total-timeout", "1ns", "get", "{p}/k"),
            c("--timeout", "1ns", "--no-sync", "get", "{p}/k")),
    case("flags-around", c("--output", "json", "--no-sync", "--timeout", "3s",
                           "--total-timeout", "10s", "set", "{p}/k", "v", "--ttl", "100"),
         c("-o", "extended", "mkdir", "{p}/d", "--ttl", "120"), c("ls", "{p}", "-p", "--sort")),
    case("relative-key", c("set", "{q}/rel", "v"), c("ls", "{p}"), c("get", "{q}/rel")),
    case("odd-key", c("set", ODD_KEY, ODD_VALUE), c("-o", "json", "get", ODD_KEY),
         c("-o", "extended", "get", ODD_KEY), c("ls", "-r", "{p}"),
         c("-o", "json", "ls", "{p}/sp ace"), c("--debug", "--no-sync", "get", ODD_KEY)),
    case("url-escapes", c("set", "{p}/a%2Fb", "v"), c("set", "{p}/q?x#y+z", "w"), c("ls", "{p}"),
         c("--debug", "--no-sync", "get", "{p}/a%2Fb"),
         c("--debug", "--no-sync", "get", "{p}/q?x#y+z")),
    case("dash-value", c("set", "{p}/k", "--", "-v"), c("get", "{p}/k")),
    # ---- the root, the wrong kind of node, missing arguments
    case("root", c("get", "/"), c("-o", "json", "get", "/"), c("get", ""), c("rm", "/"),
         c("rmdir", "/"), c("set", "/", "v"), c("mkdir", "/")),
    case("wrong-kind", Put("{p}/f", "v"), Put("{p}/d", None), Put("{p}/g", "v"),
         c("mkdir", "{p}/f"), c("update", "{p}/d", "v"), c("setdir", "{p}/f"),
         c("ls", "-p", "{p}"), c("rm", "-r", "{p}/g"), c("rm", "--dir", "{p}/d")),
    case("missing-args", c("mkdir"), c("rmdir"), c("rm"), c("update", "{p}/k"), c("setdir"),
         c("updatedir"), c("watch"), c("member", "remove"), c("exec-watch")),
    case("unknown-output-write", c("-o", "yaml", "set", "{p}/k", "v"), c("get", "{p}/k")),
    offline("unknown-command", c("bogus"), c("bogus", "{p}/k")),
    # ---- help and usage errors: our own text by design, so the exit code only
    offline("help", c("--help", exit_only=True), c("help", exit_only=True),
            c("get", "--help", exit_only=True), c("help", "exec-watch", exit_only=True)),
    offline("bad-flags", c("get", "--bogus", "{p}/k", exit_only=True),
            c("set", "--ttl", "abc", "{p}/k", "v", exit_only=True),
            c("--timeout", "bogus", "get", "{p}/k", exit_only=True), c("-o", exit_only=True)),
]


def command_lines(cases=CASES) -> int:
    """How many compared command lines the cases hold (triggers included)."""
    def count(step):
        return 1 + sum(count(t) for t in step.triggers if isinstance(t, Ctl))
    return sum(count(s) for k in cases for s in k.steps if isinstance(s, Ctl))
