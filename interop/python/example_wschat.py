"""Tutorial A's clients, with the Python `websockets` library (Debian
python3-websockets), against examples/wschat; driven by
interop/examples_test.go.

Usage: example_wschat.py WS_URL   (e.g. ws://127.0.0.1:8000)

Prints one JSON object per line: {"ev": "recv", "client": id, "text": ...}
for every message a client receives, in order, then {"ev": "exit"}. Every
receive has a timeout; a failure prints {"ev": "fail"} and exits 1.
"""

import asyncio
import json
import sys

import websockets

WAIT = 10.0


def out(ev, **fields):
    print(json.dumps({"ev": ev, **fields}), flush=True)


async def recv(ws, client):
    text = await asyncio.wait_for(ws.recv(), WAIT)
    out("recv", client=client, text=text)


async def echo(base):
    async with websockets.connect(base + "/echo") as ws:
        for text in ["hello", "ünïcødé ✓"]:
            await ws.send(text)
            await recv(ws, "echo")


async def room(base):
    # Each client speaks once it is connected, and waits for its own
    # "You wrote" before the next one joins: then it is in the room.
    async with websockets.connect(base + "/ws/111") as a:
        await a.send("hi, I am 111")
        await recv(a, "111")
        async with websockets.connect(base + "/ws/222") as b:
            await b.send("hi, I am 222")
            await recv(b, "222")
            await recv(a, "111")
            await a.send("hello from 111")
            await recv(a, "111")
            await recv(b, "222")
        # b has left.
        await recv(a, "111")
        out("closed", client="222", code=b.close_code)


async def main(base):
    await echo(base)
    await room(base)


if __name__ == "__main__":
    try:
        asyncio.run(main(sys.argv[1]))
    except Exception as e:  # reported to the Go side, which fails the test
        out("fail", error=repr(e))
        sys.exit(1)
    out("exit")
