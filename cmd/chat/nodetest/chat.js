// The official Socket.IO client (socket.io-client, Node.js) driving the
// chat's events, run by node_test.go.
//
// Usage: node chat.js <url> <polling|websocket|upgrade> <alice-token> <bob-token>
//
// Prints one line per step; exits 0 when every step passed, 1 on the
// first failure, 2 when the watchdog fires.
"use strict";

const { io } = require("socket.io-client");

const [url, mode, tokA, tokB] = process.argv.slice(2);
if (!url || !mode || !tokA || !tokB) {
  console.error("usage: node chat.js <url> <polling|websocket|upgrade> <alice-token> <bob-token>");
  process.exit(64);
}
setTimeout(() => { console.log("watchdog: over 60 s"); process.exit(2); }, 60000).unref();

const transports = { polling: ["polling"], websocket: ["websocket"], upgrade: ["polling", "websocket"] }[mode];
const check = (cond, what) => { if (!cond) throw new Error("check failed: " + what); };

// waitFor resolves with the first event of name whose argument passes pred.
function waitFor(s, name, pred = () => true, ms = 10000) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => { s.off(name, h); reject(new Error(`no ${name} within ${ms} ms`)); }, ms);
    function h(arg) {
      if (!pred(arg)) return;
      clearTimeout(t);
      s.off(name, h);
      resolve(arg);
    }
    s.on(name, h);
  });
}

function connect(token) {
  const s = io(url, { transports, auth: { token }, reconnectionDelay: 100, reconnectionDelayMax: 300, forceNew: true });
  s.seen = new Map(); // message id -> times received
  s.on("message", (m) => s.seen.set(m.id, (s.seen.get(m.id) || 0) + 1));
  return s;
}

async function main() {
  // A refused connection: connect_error with a message and data.
  const bad = io(url, { transports, auth: { token: "not-a-token" }, reconnection: false, forceNew: true });
  const err = await waitFor(bad, "connect_error");
  check(err.message && err.data && err.data.code === "unauthenticated", "refusal " + JSON.stringify({ m: err.message, d: err.data }));
  bad.close();
  console.log("refused: " + err.message);

  const a = connect(tokA);
  const b = connect(tokB);
  const [sa, sb] = await Promise.all([waitFor(a, "session"), waitFor(b, "session")]);
  check(sa.user === "alice" && sb.user === "bob" && sa.rooms.includes("general"), "sessions " + JSON.stringify([sa, sb]));
  console.log("both connected, in general");

  const join = await a.timeout(10000).emitWithAck("join", { room: "general" });
  check(join.room === "general" && Array.isArray(join.history), "join " + JSON.stringify(join));

  // A message with its ack; bob gets it.
  const got = waitFor(b, "message", (m) => m.text === "from node");
  const ack = await a.timeout(10000).emitWithAck("message", { room: "general", text: "from node", clientId: "n1" });
  check(ack.id > 0 && ack.sent > 0, "ack " + JSON.stringify(ack));
  const m = await got;
  check(m.id === ack.id && m.from === "alice", "message " + JSON.stringify(m));
  // The retry of the same clientId: the same id, nothing delivered again.
  const again = await a.timeout(10000).emitWithAck("message", { room: "general", text: "from node", clientId: "n1" });
  check(again.id === ack.id, "retry " + JSON.stringify(again));
  console.log("message acked and delivered; a retry deduplicated");

  // Validation errors in the ack.
  const bad1 = await a.timeout(10000).emitWithAck("message", { room: "general", text: "   " });
  const bad2 = await a.timeout(10000).emitWithAck("join", { room: "No Such Room!" });
  check(bad1.error && bad2.error, "errors " + JSON.stringify([bad1, bad2]));
  console.log("errors: " + bad1.error + " / " + bad2.error);

  // A file as a binary attachment.
  const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(2048, 7)]);
  const gotFile = waitFor(b, "message", (x) => x.file && x.file.name === "n.png");
  const fack = await a.timeout(10000).emitWithAck("message", { room: "general", file: { name: "n.png", data: png } });
  check(fack.id > 0, "file ack " + JSON.stringify(fack));
  const fm = await gotFile;
  check(fm.file.type === "image/png" && fm.file.size === png.length && fm.file.url.startsWith("/files/"), "file " + JSON.stringify(fm.file));
  const res = await fetch(url + fm.file.url, { headers: { Authorization: "Bearer " + tokB } });
  const body = Buffer.from(await res.arrayBuffer());
  check(res.status === 200 && body.equals(png), "download " + res.status);
  console.log("file sent as a binary attachment, downloaded by bob");

  // Private message and typing.
  const gotPM = waitFor(b, "message", (x) => x.to === "bob" && x.text === "psst");
  const echoPM = waitFor(a, "message", (x) => x.to === "bob" && x.text === "psst");
  await a.timeout(10000).emitWithAck("message", { to: "bob", text: "psst" });
  await Promise.all([gotPM, echoPM]);
  const typing = waitFor(a, "typing", (t) => t.user === "bob" && t.typing);
  // Volatile: it may be dropped while the transport is busy; send until seen.
  const iv = setInterval(() => b.volatile.emit("typing", { room: "general", typing: true }), 200);
  await typing.finally(() => clearInterval(iv));
  console.log("private message to both; typing seen");

  // Recovery: bob's connection drops; what alice sends meanwhile arrives.
  await new Promise((r) => setTimeout(r, 50));
  const id0 = b.id;
  const back = waitFor(b, "connect", () => true, 15000);
  b.io.engine.close(); // the server sees the transport close
  const sentAway = [];
  for (let i = 0; i < 3; i++) sentAway.push((await a.timeout(10000).emitWithAck("message", { room: "general", text: "away " + i })).id);
  await back;
  for (const id of sentAway) {
    if (!b.seen.has(id)) await waitFor(b, "message", (x) => x.id === id);
  }
  check(b.recovered && b.id === id0, "recovered " + b.recovered);
  for (const [id, n] of b.seen) check(n === 1, `message ${id} received ${n} times`);
  console.log("bob's connection dropped and was recovered with the 3 messages he missed, once each");

  a.close();
  b.close();
}

main().then(() => { console.log("ok"); process.exit(0); }, (e) => { console.log("FAIL: " + (e && e.stack || e)); process.exit(1); });
