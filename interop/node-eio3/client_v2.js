// The official Socket.IO v2 client (socket.io-client@2, Engine.IO v3)
// against a Go server with Options.Engine.AllowEIO3, run by
// ../eio3_node_test.go.
//
// Usage: node client_v2.js <url> <polling|websocket|upgrade> [b64]
//   b64 — the client asks for binary as base64 text (forceBase64).
//
// Every line on stdout is one JSON object with an "ev" field; the script
// ends with {"ev":"exit"} (code 0), {"ev":"fail"} (code 1) or
// {"ev":"watchdog"} (code 2).
"use strict";

const path = require("path");
const io = require(path.join(__dirname, "node_modules", "socket.io-client"));

const url = process.argv[2];
const mode = process.argv[3];
const b64 = process.argv[4] === "b64";
if (!url || !["polling", "websocket", "upgrade"].includes(mode)) {
  console.error("usage: node client_v2.js <url> <polling|websocket|upgrade> [b64]");
  process.exit(64);
}

function transports() {
  if (mode === "polling") return ["polling"];
  if (mode === "websocket") return ["websocket"];
  return ["polling", "websocket"];
}

// enc makes a value printable as JSON: a Buffer (or ArrayBuffer) becomes
// {"$bin": hex}.
function enc(v) {
  if (v === undefined) return { $undefined: true };
  if (Buffer.isBuffer(v)) return { $bin: v.toString("hex") };
  if (v instanceof ArrayBuffer) return { $bin: Buffer.from(v).toString("hex") };
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

// once resolves with the arguments of the next `event` on emitter, or
// rejects after ms.
function once(emitter, event, ms) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timeout waiting for "${event}"`)), ms || 5000);
    emitter.once(event, (...args) => {
      clearTimeout(t);
      resolve(args);
    });
  });
}

// ack emits event with args and resolves with the acknowledgement's
// arguments (a v2 client has no emit timeout of its own).
function ack(s, event, ...args) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ack for "${event}"`)), 5000);
    s.emit(event, ...args, (...res) => {
      clearTimeout(t);
      resolve(res);
    });
  });
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

const opts = {
  forceNew: true,
  transports: transports(),
  reconnection: false,
  forceBase64: b64,
  query: { client: "v2" },
};

let root;

async function main() {
  root = io(url, opts);
  const welcome = once(root, "welcome");
  await once(root, "connect");
  const engine = root.io.engine;
  out("connect", { nsp: "/", id: root.id, engineId: engine.id });
  out("welcome", { args: (await welcome)[0] });

  // An emit with an acknowledgement, text with characters outside ASCII
  // and outside the BMP (v3 payload lengths count UTF-16 code units).
  out("echo", { ack: await ack(root, "echo", "h€llo 😀", { n: 1, s: "ünïcode" }) });

  // Binary both ways: in an emit, in its ack, in a server emit; a large
  // one crosses several length digits.
  out("bin", { ack: await ack(root, "bin", Buffer.from([1, 2, 3]), { data: Buffer.from("hi"), list: [Buffer.alloc(0), 5] }) });
  const srvbin = once(root, "srvbin");
  root.emit("send-bin");
  out("srvbin", { args: await srvbin });
  const big = Buffer.alloc(70000, 0xab);
  big[0] = 1;
  big[big.length - 1] = 2;
  const [back] = await ack(root, "bigbin", big);
  out("bigbin", { equal: Buffer.isBuffer(back) && back.equals(big), len: back.length });

  // A second namespace, multiplexed, with a query string: the server sees
  // it as the socket's auth.
  const admin = root.io.socket("/admin", { query: { token: "abc", n: "1" } });
  const adminWelcome = once(admin, "welcome");
  await once(admin, "connect");
  out("connect", { nsp: "/admin", id: admin.id });
  out("welcome-admin", { args: (await adminWelcome)[0] });
  out("admin-echo", { ack: await ack(admin, "echo", "on admin") });

  // Middleware refusals: the v2 client emits "error" with the message, or
  // with the error's data when it has some.
  const priv = root.io.socket("/private");
  out("error", { nsp: "/private", args: await once(priv, "error") });
  const privData = root.io.socket("/private-data");
  out("error", { nsp: "/private-data", args: await once(privData, "error") });

  // The heartbeat, in v3 the client's: pings answered with pongs over a
  // few intervals, the connection alive throughout.
  let pongs = 0;
  root.io.on("pong", () => pongs++);
  const t0 = Date.now();
  while (pongs < 3 && Date.now() - t0 < 5000) await sleep(20);
  out("heartbeat", { pongs, connected: root.connected });

  if (mode === "upgrade") {
    const deadline = Date.now() + 5000;
    while (root.io.engine.transport.name !== "websocket" && Date.now() < deadline) await sleep(10);
  }
  out("transport", { name: root.io.engine.transport.name });

  // The client leaves /admin; the server disconnects "/".
  const adminGone = once(root, "admin-gone");
  admin.disconnect();
  out("admin-gone", { args: await adminGone });
  const disc = once(root, "disconnect");
  root.emit("kick");
  out("disconnect", { reason: (await disc)[0] });
}

const wd = setTimeout(() => {
  out("watchdog", {});
  process.exit(2);
}, 15000);
wd.unref();

main().then(
  () => {
    out("exit", { code: 0 });
    if (root) root.io.reconnection(false), root.close();
    setTimeout(() => process.exit(0), 50);
  },
  (err) => {
    out("fail", { message: String(err && err.stack ? err.stack : err) });
    if (root) root.close();
    setTimeout(() => process.exit(1), 50);
  },
);
