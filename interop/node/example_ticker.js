// A follower of examples/ticker with the official Node client, for
// ../examples_test.go. It connects (polling, then the upgrade to
// WebSocket, the client's default), waits for the upgrade, subscribes to
// every symbol and records the seq of every quote.
//
// Usage: node example_ticker.js <url> fast|slow
//   fast: reads all along; on the line "stop" on stdin it prints its
//         summary and exits.
//   slow: once subscribed, stops reading: its event loop blocks in a
//         synchronous read of stdin, as a client busy elsewhere would, so
//         nothing arrives from the server meanwhile. On the line "resume"
//         it reads again, until it gets a quote made after it resumed (the
//         quotes' time is the server's clock, this machine's); then it
//         prints its summary and exits.
//
// Lines on stdout are JSON objects with an "ev" field (../helpers_test.go):
// "subscribed", "resumed", "summary" {received, missed, range [first,
// last seq]: per symbol; transport}, then "exit", or "fail".
"use strict";

const fs = require("fs");
const { io } = require("socket.io-client");

const [url, mode] = process.argv.slice(2);
const symbols = ["AAPL", "AMZN", "GOOG", "MSFT", "NVDA", "TSLA"];

function out(ev, fields) {
  process.stdout.write(JSON.stringify(Object.assign({ ev }, fields || {})) + "\n");
}

function fail(e) {
  out("fail", { error: String((e && e.stack) || e) });
  process.exit(1);
}

// Per symbol: the seqs received, in order.
const seqs = Object.fromEntries(symbols.map((s) => [s, []]));
const wrong = [];
let resumedAt = 0;
const live = new Set(); // the symbols of which a quote made after the resumption came

function summary() {
  const received = {}, missed = {}, range = {};
  for (const s of symbols) {
    const q = seqs[s];
    received[s] = q.length;
    missed[s] = q.length ? q[q.length - 1] - q[0] + 1 - q.length : 0;
    range[s] = [q[0], q[q.length - 1]];
    for (let i = 1; i < q.length; i++) if (q[i] <= q[i - 1]) wrong.push(`${s} ${q[i - 1]} then ${q[i]}`);
  }
  out("summary", { received, missed, range, wrong: wrong.slice(0, 5), transport: socket.io.engine.transport.name });
  socket.off("disconnect");
  socket.disconnect();
  out("exit");
  process.exit(0);
}

// readLine blocks the whole process until a line arrives on stdin.
function readLine() {
  const buf = Buffer.alloc(1);
  let line = "";
  for (;;) {
    const n = fs.readSync(0, buf, 0, 1, null);
    if (n === 0) throw new Error("stdin closed");
    if (buf[0] === 10) return line;
    line += String.fromCharCode(buf[0]);
  }
}

const socket = io(url, { reconnection: false });
socket.on("connect_error", fail);
socket.on("disconnect", (reason) => fail("disconnected: " + reason));
socket.on("price", (q) => {
  if (!q || typeof q.seq !== "number" || !(q.price > 0) || !seqs[q.symbol]) {
    wrong.push(JSON.stringify(q));
    return;
  }
  seqs[q.symbol].push(q.seq);
  if (mode === "slow" && resumedAt && q.time >= resumedAt) {
    live.add(q.symbol);
    if (live.size === symbols.length) summary();
  }
});

socket.io.on("open", () => {
  socket.io.engine.once("upgrade", async () => {
    try {
      for (const s of symbols) {
        const q = await socket.timeout(10000).emitWithAck("subscribe", s);
        if (!q || q.symbol !== s) throw new Error("subscribe " + s + ": " + JSON.stringify(q));
      }
      out("subscribed", { transport: socket.io.engine.transport.name });
      if (mode === "slow") {
        // Let this turn end, so that nothing queued is half handled, and
        // stop reading on the next one.
        setImmediate(() => {
          const line = readLine();
          if (line !== "resume") fail("unexpected input " + JSON.stringify(line));
          resumedAt = Date.now();
          out("resumed");
        });
      } else {
        process.stdin.setEncoding("utf8");
        process.stdin.on("data", (d) => {
          if (d.includes("stop")) summary();
        });
        process.stdin.on("end", () => fail("stdin closed"));
      }
    } catch (e) {
      fail(e);
    }
  });
});

setTimeout(() => fail("watchdog: 110s"), 110000).unref();
