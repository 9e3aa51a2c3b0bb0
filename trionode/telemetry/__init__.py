"""What a running node tells its operator: the structured log set up once (log). The
Logger Protocol (logger) is all the pure cores see of it. Imports structlog, nothing of
trionode."""

from .log import configure_logging

__all__ = ["configure_logging"]
