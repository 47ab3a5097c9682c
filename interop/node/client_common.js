// Shared plumbing for the client_*.js interop scripts run by the Go tests
// in ../ (helpers_test.go): argument parsing, the transport mode, JSON-lines
// output, Buffer serialization, waiting helpers and a watchdog.
//
// Usage: node client_x.js <url> <mode> [extra args...]
//   url  — the Go server's base URL, e.g. http://127.0.0.1:41234
//   mode — polling | websocket | upgrade
//
// Every line printed on stdout is one JSON object with an "ev" field. A
// script ends with done() (exit code 0) or fail() (exit code 1); the
// watchdog exits with code 2 if the script hangs.
"use strict";

const path = require("path");
const { io, Manager } = require(path.join(__dirname, "node_modules", "socket.io-client"));

const url = process.argv[2];
const mode = process.argv[3];
const extra = process.argv.slice(4);
if (!url || !["polling", "websocket", "upgrade"].includes(mode)) {
  console.error("usage: node " + path.basename(process.argv[1]) + " <url> <polling|websocket|upgrade> [args...]");
  process.exit(64);
}

// Options selecting the transports of the mode, plus quick reconnection
// so that tests do not wait on the default backoff.
function transportOpts() {
  const o = { reconnectionDelay: 100, reconnectionDelayMax: 300, randomizationFactor: 0 };
  if (mode === "polling") o.transports = ["polling"];
  else if (mode === "websocket") o.transports = ["websocket"];
  else o.transports = ["polling", "websocket"];
  return o;
}

// Serialize a value for output: a Buffer becomes {"$bin": hex, "$type":
// "Buffer"} (ArrayBuffer and typed arrays say so in $type), undefined
// becomes {"$undefined": true}; objects and arrays are walked.
function enc(v) {
  if (v === undefined) return { $undefined: true };
  if (typeof v === "function") return { $function: true };
  if (Buffer.isBuffer(v)) return { $bin: v.toString("hex"), $type: "Buffer" };
  if (v instanceof ArrayBuffer) return { $bin: Buffer.from(v).toString("hex"), $type: "ArrayBuffer" };
  if (ArrayBuffer.isView(v)) {
    return { $bin: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("hex"), $type: v.constructor.name };
  }
  if (v instanceof Error) return { $error: v.message, data: enc(v.data) };
  if (Array.isArray(v)) return v.map(enc);
  if (v !== null && typeof v === "object") {
    const o = {};
    for (const k of Object.keys(v)) o[k] = enc(v[k]);
    return o;
  }
  return v;
}

function out(ev, fields) {
  process.stdout.write(JSON.stringify(Object.assign({ ev }, enc(fields || {}))) + "\n");
}

const sockets = new Set();

// connect opens a socket to nsp on its own connection (forceNew) unless
// opts.forceNew is false, and remembers it for done().
function connect(nsp, opts) {
  const s = io(url + (nsp || "/"), Object.assign({ forceNew: true }, transportOpts(), opts || {}));
  sockets.add(s);
  return s;
}

function track(s) {
  sockets.add(s);
  return s;
}

function closeAll() {
  for (const s of sockets) {
    try {
      s.io.reconnection(false);
      s.disconnect();
      s.io.disconnect();
    } catch (e) {
      // already closed
    }
  }
}

function done() {
  closeAll();
  out("exit", { code: 0 });
  // Let stdout drain and the close packets go out.
  setTimeout(() => process.exit(0), 50);
}

function fail(msg) {
  out("fail", { message: String(msg) });
  closeAll();
  setTimeout(() => process.exit(1), 50);
}

// once resolves with the arguments of the next `event` on emitter, or
// rejects after ms.
function once(emitter, event, ms) {
  ms = ms || 5000;
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      emitter.off(event, fn);
      reject(new Error(`timeout waiting for "${event}"`));
    }, ms);
    const fn = (...args) => {
      clearTimeout(t);
      resolve(args);
    };
    emitter.once(event, fn);
  });
}

// connected resolves once s is connected, rejects on connect_error.
function connected(s, ms) {
  if (s.connected) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error("timeout waiting for connect")), ms || 5000);
    s.once("connect", () => {
      clearTimeout(t);
      resolve();
    });
    s.once("connect_error", (err) => {
      clearTimeout(t);
      reject(err);
    });
  });
}

// settle waits, in upgrade mode, until the connection of s has upgraded to
// WebSocket; it returns the transport name.
async function settle(s, ms) {
  const deadline = Date.now() + (ms || 5000);
  if (mode === "upgrade") {
    while (!(s.io.engine && s.io.engine.transport.name === "websocket")) {
      if (Date.now() > deadline) throw new Error("no upgrade to websocket");
      await sleep(10);
    }
  }
  return s.io.engine.transport.name;
}

// ack emits event with args and resolves with every argument of the
// acknowledgement (emitWithAck resolves with the first one only); it
// rejects with the client's timeout error after ms.
function ack(s, ms, event, ...args) {
  return new Promise((resolve, reject) => {
    s.timeout(ms).emit(event, ...args, (err, ...res) => (err ? reject(err) : resolve(res)));
  });
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

// run executes the async main function with a watchdog.
function run(main, watchdogMs) {
  const wd = setTimeout(() => {
    out("watchdog", {});
    closeAll();
    setTimeout(() => process.exit(2), 50);
  }, watchdogMs || 15000);
  wd.unref();
  main().then(done, (err) => fail(err && err.stack ? err.stack : err));
}

module.exports = { io, Manager, url, mode, extra, transportOpts, enc, out, connect, track, done, fail, once, connected, settle, ack, sleep, run };
