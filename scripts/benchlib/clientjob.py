"""The same key workloads through trionode.client: to measure the library's own ceiling.

One trio task per connection, all on one Client whose pool keeps one idle connection per
task. Only the key workloads (write, read, read-quorum, mixed) run here; docs/bench.md
compares what this driver reaches with the epoll engine and with wrk. With `tls` (bench
--tls) the client talks https, trusting the run's CA.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import trio

from trionode.client import Client, ClientError, EtcdError

from .servers import client_context
from .workloads import KEYS, VALUE_SIZE, WRITE_SHARE, Recorder

__all__ = ["ClientJob"]

REPORT_EVERY = 0.2


class ClientJob:
    def __init__(self, url: str, workload: str, slots: list[int], seed: int,
                 tls=None) -> None:
        if workload not in WRITE_SHARE:
            raise ValueError(f"the client driver runs {', '.join(WRITE_SHARE)}, "
                             f"not {workload}")
        self.url, self.slots, self.tls = url, slots, tls
        self.write_share = WRITE_SHARE[workload]
        self.quorum = workload == "read-quorum"
        self.rng = random.Random(seed)
        self.order = list(range(KEYS))
        self.rng.shuffle(self.order)
        self.value = "v" * VALUE_SIZE
        self.rec = Recorder()

    @property
    def done(self) -> int:
        return self.rec.done

    def connect(self) -> None:
        """Connections are dialled by the client's pool on first use (inside the warm-up)."""

    def window(self, t_from: float, t_to: float) -> None:
        self.rec.window(t_from, t_to)

    def drive(self, until: float, report: Callable[[], None]) -> int:
        trio.run(self._main, until, report)
        return 0

    def result(self) -> dict:
        return self.rec.result()

    async def _main(self, until: float, report: Callable[[], None]) -> None:
        async with Client([self.url], timeout=10.0, max_idle=len(self.slots),
                          ssl_context=client_context(self.tls)) as client:
            async with trio.open_nursery() as nursery:
                for slot in self.slots:
                    nursery.start_soon(self._loop, client, slot, until)
                while time.monotonic() < until:
                    report()
                    await trio.sleep(REPORT_EVERY)

    async def _loop(self, client: Client, slot: int, until: float) -> None:
        n = slot * 7919
        while time.monotonic() < until:
            n += 1
            key = f"/bench/k{self.order[n % KEYS]}"
            write = self.write_share >= 1.0 or self.rng.random() < self.write_share
            sent = time.monotonic()
            try:
                if write:
                    await client.set(key, self.value)
                else:
                    await client.get(key, quorum=self.quorum)
                status = 200
            except EtcdError as exc:      # the HTTP status etcd gives that error code
                status = {100: 404, 101: 412}.get(exc.code, 400)
            except ClientError as exc:
                self.rec.on_error(slot, str(exc))
                continue
            self.rec.record(sent, time.monotonic(), status)
