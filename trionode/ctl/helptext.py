"""trionodectl's own help: every command with its flags and an example. Pure text."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CommandHelp", "COMMANDS", "app_help", "command_help", "member_help"]


@dataclass(frozen=True, slots=True)
class CommandHelp:
    usage: str                      # arguments after the command name
    summary: str
    flags: tuple[tuple[str, str], ...]
    example: str


_TTL = ("--ttl N", "time to live of the key or directory, in seconds")

COMMANDS: dict[str, CommandHelp] = {
    "ls": CommandHelp("[key]", "list a directory (default /)", (
        ("--recursive, -r", "list every key below, depth first"),
        ("--sort", "sorted by key (otherwise in the server's order)"),
        ("-p", "append / to directories"),
        ("--quorum, -q", "a linearizable read")), "trionodectl ls / --recursive"),
    "get": CommandHelp("<key>", "print the value of a key", (
        ("--sort", "sorted by key"), ("--quorum, -q", "a linearizable read")),
        "trionodectl get /example/key"),
    "mk": CommandHelp("<key> [value]", "create a key that must not exist (value from stdin "
                      "when omitted)", (("--in-order", "create a key with the next "
                                         "in-order name under directory <key>"), _TTL),
                      "trionodectl mk /example/key data"),
    "mkdir": CommandHelp("<key>", "create a directory that must not exist", (_TTL,),
                         "trionodectl mkdir /here/you/go --ttl 120"),
    "set": CommandHelp("<key> [value]", "set the value of a key, creating it if needed "
                       "(value from stdin when omitted; `set -- <key> <value>` for a value "
                       "starting with -)", (
                           _TTL, ("--swap-with-value V", "only if the current value is V"),
                           ("--swap-with-index N", "only if the current modified index is N")),
                       "trionodectl set /example/key new"),
    "setdir": CommandHelp("<key>", "create a directory (an existing one fails with 102, as "
                          "with etcdctl)", (_TTL,), "trionodectl setdir /x/y/z"),
    "update": CommandHelp("<key> [value]", "change the value of an existing key", (_TTL,),
                          "trionodectl update /example/key turtles"),
    "updatedir": CommandHelp("<key>", "change the TTL of an existing directory", (_TTL,),
                             "trionodectl updatedir /here/you/go --ttl 500"),
    "rm": CommandHelp("<key>", "remove a key, or a directory", (
        ("--dir", "also remove an empty directory"),
        ("--recursive, -r", "remove a directory and everything below it"),
        ("--with-value V", "only if the current value is V"),
        ("--with-index N", "only if the current modified index is N")),
        "trionodectl rm /a --recursive"),
    "rmdir": CommandHelp("<key>", "remove an empty directory", (), "trionodectl rmdir /x/y/z"),
    "watch": CommandHelp("<key>", "wait for a change and print it", (
        ("--forever, -f", "keep watching until Ctrl-C"),
        ("--after-index N", "start after etcd index N"),
        ("--recursive, -r", "changes below the key too, printed as [action] key")),
        "trionodectl watch --recursive /example"),
    "exec-watch": CommandHelp(
        "<key> <command> [args...]", "run a command for every change, with ETCD_WATCH_ACTION, "
        "ETCD_WATCH_KEY, ETCD_WATCH_VALUE and ETCD_WATCH_MODIFIED_INDEX set; as in etcdctl "
        "3.4, write `exec-watch -r <key> -- cmd` or `exec-watch cmd args <key>` (without a "
        "flag before it, the key is the last argument)", (
            ("--after-index N", "start after etcd index N"),
            ("--recursive, -r", "changes below the key too")),
        "trionodectl exec-watch --recursive /example -- echo hello"),
    "member": CommandHelp("list | add <name> <peerURL> | remove <id> | update <id> <peerURLs>",
                          "list, add, remove or update cluster members", (),
                          "trionodectl member list"),
    "cluster-health": CommandHelp("", "check every member's /health", (
        ("--forever, -f", "check every 10 seconds until Ctrl-C"),),
        "trionodectl cluster-health"),
}

_GLOBAL = (
    ("--endpoints URLS", "comma-separated client URLs, http:// or https:// (also "
                         "$ETCDCTL_ENDPOINTS; default http://127.0.0.1:2379,http://127.0.0.1:4001)"),
    ("--output, -o FORMAT", "simple, extended or json (extended also prints the Etcd-Index, "
                            "Raft-Index and Raft-Term headers)"),
    ("--cert-file FILE", "identify HTTPS client using this SSL certificate file (also "
                         "$ETCDCTL_CERT_FILE)"),
    ("--key-file FILE", "identify HTTPS client using this SSL key file (also $ETCDCTL_KEY_FILE)"),
    ("--ca-file FILE", "verify certificates of HTTPS-enabled servers using this CA bundle (also "
                       "$ETCDCTL_CA_FILE; default: the system's, or $SSL_CERT_FILE)"),
    ("--no-sync", "use the endpoints as given, without asking /v2/members"),
    ("--debug", "print each request as a curl command on stderr"),
    ("--timeout D", "per request, until the response head (default 2s)"),
    ("--total-timeout D", "per command except watch, sync included (default 5s)"),
    ("--version, -v", "print the version"),
    ("--help, -h", "this help; `trionodectl <command> --help` for one command"),
)


def _table(rows: tuple[tuple[str, str], ...]) -> str:
    width = max((len(name) for name, _ in rows), default=0)
    return "".join(f"   {name.ljust(width)}  {text}\n" for name, text in rows)


def app_help() -> str:
    commands = tuple((name, h.summary.split(" (")[0]) for name, h in COMMANDS.items())
    return ("trionodectl: an etcdctl (v2 API) for trionode and etcd\n\n"
            "USAGE:\n   trionodectl [global options] <command> [command options] [arguments]\n\n"
            "COMMANDS:\n" + _table(commands) + "\nGLOBAL OPTIONS:\n" + _table(_GLOBAL) +
            "\nEXAMPLE:\n   trionodectl --endpoints http://127.0.0.1:2379 set /message hello\n")


def command_help(name: str) -> str:
    h = COMMANDS[name]
    text = (f"trionodectl {name} - {h.summary}\n\n"
            f"USAGE:\n   trionodectl [global options] {name} [options] {h.usage}\n")
    if h.flags:
        text += "\nOPTIONS:\n" + _table(h.flags)
    return text + f"\nEXAMPLE:\n   {h.example}\n"


def member_help() -> str:
    return command_help("member") + (
        "\nCOMMANDS:\n" + _table((
            ("list", "every member, with its URLs and whether it leads"),
            ("add <name> <peerURL>", "announce a new member (then start it with the "
                                     "printed ETCD_* settings)"),
            ("remove <id>", "remove a member by its hex ID"),
            ("update <id> <peerURLs>", "change a member's peer URLs (comma-separated)"))))
