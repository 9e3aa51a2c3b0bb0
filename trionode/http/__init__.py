"""The HTTP edge: an h11 server on trio, request/response messages, the pure parsing of
paths and parameters that etcd's Go server does (v2-spec §1.1, §1.2), and the handlers of
the client and peer ports. Imports store, membership, config, net, telemetry (the Logger
Protocol), v2 and gocompat; what it needs of the node is the NodeApi Protocol it declares
(api.py), never server or node themselves."""

from .keys_params import KeysRequest, parse_keys_request
from .limits import HttpLimits
from .message import HttpResponse, Request
from .params import parse_form
from .paths import clean_path, redirect_for
from .server import serve_http

__all__ = [
    "HttpLimits",
    "KeysRequest",
    "Request",
    "HttpResponse",
    "clean_path",
    "parse_form",
    "parse_keys_request",
    "redirect_for",
    "serve_http",
]
