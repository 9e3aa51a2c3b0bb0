"""--config-file: flag values from a YAML file, the lowest of three layers.

Precedence is etcd 0.4's: flags > environment > config file (v2-spec §6.1). (etcd 3.4's
--config-file instead ignores every flag and variable; 0.4's rule lets one file hold a
cluster's common settings and a flag override one of them on one machine.)

Two shapes are accepted:
* flat: each key a flag name without its dashes, each value a YAML scalar
  (`peer-addr: 10.0.0.1:7001`, `snapshot-count: 5000`, `enable-discovery-service: true`);
  a list of scalars stands for a comma-separated value (`cors: [a, b]`);
* CoreOS cloud-config (v2-spec §6.3, the tutorial's "#cloud-config ... coreos: etcd:"):
  the same keys under `coreos: etcd:` (or `etcd2:`); the rest of the document is CoreOS's
  and ignored. CoreOS substituted `$private_ipv4` and `$public_ipv4`; we cannot know those
  addresses, so a value that still holds one is refused with a clear message.
"""

from __future__ import annotations

from collections.abc import Collection

import yaml

from .errors import ConfigError

__all__ = ["load_config_file"]

MAX_FILE_BYTES = 1 << 20  # a config file is a screenful; this is only a bound
_COREOS_VARS = ("$private_ipv4", "$public_ipv4")


def load_config_file(path: str, known: Collection[str]) -> dict[str, str]:
    """{flag name: raw text} from the file at `path`; every key must be in `known`."""
    doc = _read_yaml(path)
    settings = _etcd_section(doc, path)
    found: dict[str, str] = {}
    for key, value in settings.items():
        if not isinstance(key, str) or key not in known:
            raise ConfigError(f"config file {path}: unknown key {key!r} "
                              f"(keys are flag names without dashes)")
        text = _text(value, key, path)
        if text is not None:
            found[key] = text
    return found


def _read_yaml(path: str) -> object:
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_FILE_BYTES:
        raise ConfigError(f"config file {path} is larger than {MAX_FILE_BYTES} bytes")
    try:
        return yaml.safe_load(data)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" (line {where.line + 1})" if where is not None else ""
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise ConfigError(f"config file {path} is not valid YAML{line}: {problem}") from None


def _etcd_section(doc: object, path: str) -> dict:
    if doc is None:  # an empty file sets nothing
        return {}
    if not isinstance(doc, dict):
        raise ConfigError(f"config file {path}: expected a mapping of flag names to values")
    coreos = doc.get("coreos")
    if coreos is None:
        return doc
    sections = [doc_key for doc_key in ("etcd", "etcd2")
                if isinstance(coreos, dict) and doc_key in coreos]
    if len(sections) != 1:
        raise ConfigError(f"config file {path}: a cloud-config needs exactly one of "
                          f"'coreos: etcd:' or 'coreos: etcd2:'")
    section = coreos[sections[0]]
    if section is None:
        return {}
    if not isinstance(section, dict):
        raise ConfigError(f"config file {path}: 'coreos: {sections[0]}:' must be a mapping")
    return section


def _text(value: object, key: str, path: str) -> str | None:
    """A YAML value as the text a flag would have carried; None (`key:` alone) means unset."""
    if value is None:
        return None
    if isinstance(value, list) and all(_scalar(item) for item in value):
        text = ",".join(_scalar_text(item) for item in value)
    elif _scalar(value):
        text = _scalar_text(value)
    else:
        raise ConfigError(f"config file {path}: {key} must be a string, number or boolean")
    for variable in _COREOS_VARS:
        if variable in text:
            raise ConfigError(f"config file {path}: {key} holds {variable}, which CoreOS's "
                              f"cloudinit substitutes and trionode cannot: write the address")
    return text


def _scalar(value: object) -> bool:
    return isinstance(value, (str, int, float))  # bool is an int


def _scalar_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
