"""Go's text forms, pure: how etcd's Go code parses and prints URLs and paths (url), flag
values (parse: strconv and time.ParseDuration), times (timefmt) and JSON strings and
floats (jsontext). Imports nothing of trionode; any part may import it."""

from .jsontext import go_float, quote

__all__ = ["go_float", "quote"]
