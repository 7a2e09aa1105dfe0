"""An independent WebSocket client (Python `websockets`, which checks RFC 6455
strictly: unmasked server frames, shortest lengths, UTF-8 text, close
handshake) against a running gateway. Run by gateway/tests/interop.rs:

    python3 ws_client.py WS_URL TOKEN ROOM

Checks frames of every length form (7-bit, 16-bit, 64-bit), the server's
pings, tungstenite's pongs to ours (they go through the gateway's own
writer), a close the client starts and one the server starts. Prints
"interop: ok" and exits 0, or names what failed and exits 1.
"""

import asyncio
import json
import sys

import websockets

URL, TOKEN, ROOM = sys.argv[1], sys.argv[2], sys.argv[3]
SUB = ["live.json.v1"]
SIZES = {}


def note(frame):
    n = len(frame.encode())
    form = "7-bit" if n < 126 else "16-bit" if n < 65536 else "64-bit"
    SIZES[form] = max(SIZES.get(form, 0), n)


def fail(msg):
    print(f"interop: FAILED: {msg}")
    sys.exit(1)


async def recv_json(ws):
    frame = await asyncio.wait_for(ws.recv(), 10)
    if not isinstance(frame, str):
        fail(f"expected a text frame, got {type(frame)}")
    note(frame)
    return json.loads(frame)


async def until(ws, pred, what):
    for _ in range(10_000):
        msg = await recv_json(ws)
        if pred(msg):
            return msg
    fail(f"never saw {what}")


async def main():
    # The client pings every 0.1 s (and gives up on a pong after 30 s:
    # the first comment may wait for the word filter to build).
    async with websockets.connect(
        f"{URL}?token={TOKEN}", subprotocols=SUB, ping_interval=0.1, ping_timeout=30,
        max_size=None,
    ) as ws:
        if ws.subprotocol != "live.json.v1":
            fail(f"subprotocol {ws.subprotocol}")
        hello = await recv_json(ws)
        if hello.get("type") != "hello":
            fail(f"first frame {hello}")
        chars = min(int(hello["max_comment_chars"]), 500)
        await ws.send(json.dumps({"type": "join", "id": "j", "room": ROOM}))
        await until(ws, lambda m: m.get("type") == "joined", "joined")
        # 60 long comments at once: their tick's batch passes 64 KiB.
        texts = [f"{i:03}" + "货" * (chars - 3) for i in range(60)]
        for i, t in enumerate(texts):
            await ws.send(json.dumps({"type": "comment", "id": f"c{i}", "text": t}))
        seen = []
        while len(seen) < len(texts):
            frame = await asyncio.wait_for(ws.recv(), 10)
            note(frame)
            msg = json.loads(frame)
            if msg.get("type") == "events":
                seen += [e["text"] for e in msg["events"] if e.get("type") == "comment"]
        if sorted(seen) != sorted(texts):
            fail("comments came back changed or incomplete")
        # Idle for longer than the gateway's idle timeout: its pings and our
        # pongs keep the session; each of our pings gets its pong.
        for _ in range(15):
            pong = await ws.ping()
            await asyncio.wait_for(pong, 5)
            await asyncio.sleep(0.1)
        await ws.send(json.dumps({"type": "ping", "id": "p"}))
        await until(ws, lambda m: m.get("type") == "pong", "pong reply")
        await ws.close()
        reply = ws.protocol.close_rcvd
        if reply is None or reply.code != 1000:
            fail(f"client close: the gateway replied {reply}")
    for form in ("7-bit", "16-bit", "64-bit"):
        if form not in SIZES:
            fail(f"no {form} frame seen ({SIZES})")
    # A close the server starts: a bad token is refused with 4100.
    async with websockets.connect(f"{URL}?token=bad", subprotocols=SUB) as ws:
        refusal = await recv_json(ws)
        if refusal.get("type") != "error":
            fail(f"refusal frame {refusal}")
        try:
            await asyncio.wait_for(ws.recv(), 10)
            fail("the refused connection stayed open")
        except websockets.ConnectionClosed as e:
            if e.rcvd is None or e.rcvd.code != 4100:
                fail(f"server close {e.rcvd}")
    print(f"interop: ok, largest frame of each length form: {SIZES}")


asyncio.run(main())
