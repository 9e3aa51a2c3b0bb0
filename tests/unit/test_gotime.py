"""Go's time texts: time.Duration.String() and RFC3339Nano."""

import pytest

from trionode.gocompat.timefmt import go_duration, rfc3339nano


@pytest.mark.parametrize(("ns", "text"), [
    (0, "0s"), (850, "850ns"), (1_500, "1.5µs"), (23_060_877, "23.060877ms"), (1_000_000, "1ms"),
    (1_000_000_000, "1s"), (202_190_000_000, "3m22.19s"), (4_751_469_872_568, "1h19m11.469872568s"),
    (3_600_000_000_000, "1h0m0s"), (-1_500, "-1.5µs"),
])
def test_go_duration(ns: int, text: str) -> None:
    assert go_duration(ns) == text


def test_rfc3339nano_keeps_only_significant_fraction_digits() -> None:
    assert rfc3339nano(1_795_600_000_468_523_330) == "2026-11-25T09:46:40.46852333Z"
    assert rfc3339nano(1_795_600_000_000_000_000) == "2026-11-25T09:46:40Z"
