"""Real software unchanged on our loop: an aiohttp (pinned test dependency) server and
client exchange requests, plain and streamed, on uring.EventLoop."""

from __future__ import annotations

import asyncio

import pytest

aiohttp = pytest.importorskip("aiohttp")
from aiohttp import web  # noqa: E402


async def _exchange() -> list:
    async def hello(request):
        return web.json_response({"path": request.path, "q": request.query.get("q")})

    async def echo(request):
        body = await request.read()
        return web.Response(body=body[::-1])

    async def stream(request):
        resp = web.StreamResponse()
        await resp.prepare(request)
        for i in range(100):
            await resp.write(b"%d\n" % i)
        await resp.write_eof()
        return resp

    app = web.Application()
    app.add_routes([web.get("/hello", hello), web.post("/echo", echo), web.get("/stream", stream)])
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    out = []
    try:
        async with aiohttp.ClientSession() as session:
            for i in range(20):
                async with session.get(f"http://127.0.0.1:{port}/hello", params={"q": str(i)}) as r:
                    out.append((r.status, await r.json()))
            payload = bytes(range(256)) * 1000
            async with session.post(f"http://127.0.0.1:{port}/echo", data=payload) as r:
                out.append(await r.read() == payload[::-1])
            async with session.get(f"http://127.0.0.1:{port}/stream") as r:
                out.append((await r.text()).count("\n"))
            got = await asyncio.gather(*(session.get(f"http://127.0.0.1:{port}/hello") for _ in range(30)))
            out.append(sorted({r.status for r in got}))
            for r in got:
                r.release()
    finally:
        await runner.cleanup()
    return out


def test_aiohttp_server_and_client_on_our_loop(fd_guard):
    import uring
    from uring.loop import EventLoop

    async def main():
        assert isinstance(asyncio.get_running_loop(), EventLoop)
        return await _exchange()

    out = uring.run(main())
    assert out[:20] == [(200, {"path": "/hello", "q": str(i)}) for i in range(20)]
    assert out[20:] == [True, 100, [200]]
