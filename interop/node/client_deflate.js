// Scenario: permessage-deflate against a Go server that enables it. The
// client (ws under engine.io-client) offers the extension by default and
// compresses what it sends from 1 KiB on, as the server does. Three
// sockets, each on its own connection: an acknowledged echo of a large
// string (compressed both ways), a broadcast of a large string and a
// large binary attachment (compressed once on the server, inflated by
// every client), a broadcast with compress(false), and a small one. On
// WebSocket it reports the negotiated extensions and the bytes each
// connection read per phase (the TCP socket's bytesRead), so that the test
// sees what went over the wire compressed and what did not.
"use strict";
const { out, connect, once, connected, settle, ack, run } = require("./client_common");

const big = "compress me, ".repeat(4000);

function wsOf(s) {
  const t = s.io.engine.transport;
  return t.name === "websocket" ? t.ws : null;
}

// bytesRead is what the connection of s read so far, or -1 off WebSocket.
function bytesRead(s) {
  const ws = wsOf(s);
  return ws && ws._socket ? ws._socket.bytesRead : -1;
}

run(async () => {
  const socks = [0, 1, 2].map(() => connect("/"));
  const got = socks.map((s) => ({
    big: once(s, "big", 10000),
    plain: once(s, "plain", 10000),
    small: once(s, "small", 10000),
  }));
  await Promise.all(socks.map((s) => connected(s)));
  for (const s of socks) await settle(s);
  const ws = wsOf(socks[0]);
  out("extensions", { value: ws ? String(ws.extensions) : null });

  const [echo] = await ack(socks[0], 5000, "echo", big);
  out("echo", { ok: echo === big, len: echo.length });

  const before = socks.map(bytesRead);
  socks[0].emit("shout");
  for (let i = 0; i < socks.length; i++) {
    const [msg, bin] = await got[i].big;
    const binOk = Buffer.isBuffer(bin) && bin.length === 30000 && bin.every((b, j) => b === j % 7);
    out("big", { i, ok: msg === big, bin: binOk, read: bytesRead(socks[i]) - before[i] });
  }

  const mid = socks.map(bytesRead);
  socks[0].emit("shout-plain");
  for (let i = 0; i < socks.length; i++) {
    const [msg] = await got[i].plain;
    out("plain", { i, ok: msg === big, read: bytesRead(socks[i]) - mid[i] });
  }

  socks[0].emit("shout-small");
  for (let i = 0; i < socks.length; i++) {
    const [msg] = await got[i].small;
    out("small", { i, ok: msg === "small" });
  }
  out("transport", { name: await settle(socks[0]) });
});
