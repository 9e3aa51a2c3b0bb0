"""Direct socket I/O: writes that do not fit go through trio; reads wait, and yield."""

from __future__ import annotations

import socket

import pytest
import trio

from trionode.net.sockio import YIELD_EVERY, DirectSocket


async def connected_pair() -> tuple[trio.SocketStream, trio.SocketStream]:
    listener = (await trio.open_tcp_listeners(0, host="127.0.0.1"))[0]
    port = listener.socket.getsockname()[1]
    client = await trio.open_tcp_stream("127.0.0.1", port)
    server = await listener.accept()
    await listener.aclose()
    return client, server


async def test_a_write_larger_than_the_socket_buffer_arrives_whole() -> None:
    client, server = await connected_pair()
    client.socket.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    payload = bytes(range(256)) * 20_000  # 5 MB: far more than fits at once
    received = bytearray()

    async def drain() -> None:
        while len(received) < len(payload):
            received.extend(await server.receive_some(1 << 16))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(drain)
        await DirectSocket(client).send_all(payload, timeout=10)
    assert bytes(received) == payload


async def test_a_write_that_never_drains_times_out() -> None:
    client, _server = await connected_pair()
    with pytest.raises(trio.TooSlowError):
        await DirectSocket(client).send_all(b"x" * (64 << 20), timeout=0.2)


async def test_reads_wait_for_data_and_see_eof() -> None:
    client, server = await connected_pair()
    direct = DirectSocket(server)
    async with trio.open_nursery() as nursery:
        async def later() -> None:
            await trio.sleep(0.05)
            await client.send_all(b"hello")
            await client.aclose()
        nursery.start_soon(later)
        assert await direct.receive_some(100) == b"hello"
        assert await direct.receive_some(100) == b""


async def test_a_reader_with_data_always_ready_still_yields() -> None:
    client, server = await connected_pair()
    await client.send_all(b"x" * (YIELD_EVERY * 2))
    await trio.sleep(0.05)
    direct = DirectSocket(server)
    others_ran = 0

    async def other() -> None:
        nonlocal others_ran
        while True:
            others_ran += 1
            await trio.sleep(0)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(other)
        await trio.sleep(0)
        before = others_ran
        for _ in range(YIELD_EVERY * 2):
            assert await direct.receive_some(1) == b"x"
        assert others_ran > before  # the reader let the other task run
        nursery.cancel_scope.cancel()


async def test_a_reset_is_a_broken_stream() -> None:
    client, server = await connected_pair()
    client.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    await client.aclose()  # linger 0: RST
    await trio.sleep(0.05)
    with pytest.raises(trio.BrokenResourceError):
        await DirectSocket(server).receive_some(10)
