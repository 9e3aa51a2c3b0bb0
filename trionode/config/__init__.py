"""Configuration: flags, environment and config file -> one frozen, validated Config
(flags), the flag value types (values) and the YAML file (file). Pure but for reading the
config file; imports gocompat only."""

from .errors import ConfigError
from .flags import Config, HttpSettings, InfoRequested, parse_config, usage
from .values import Url

__all__ = ["Config", "ConfigError", "HttpSettings", "InfoRequested", "Url", "parse_config", "usage"]
