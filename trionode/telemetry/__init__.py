"""What a running node tells its operator: the structured log, set up once (log,
structlog). The Logger Protocol (logger) is all the pure cores see of it, so importing
this package imports no structlog; the node imports telemetry.log itself."""

from .logger import Logger

__all__ = ["Logger"]
