// Scenarios 5 and 6: several clients (argument: how many, default 4), each
// on its own connection with auth {name: "c<i>"}. Every event received is
// printed ("recv"); "q1" is answered with the client's name, "q2" too
// except by c3; "end" finishes. The server drives the broadcasts once every
// client has said "ready".
"use strict";
const { out, connect, once, connected, settle, ack, extra, run } = require("./client_common");

run(async () => {
  const n = Number(extra[0] || 4);
  const clients = [];
  for (let i = 0; i < n; i++) {
    const name = "c" + i;
    const s = connect("/", { auth: { name } });
    s.onAny((event, ...args) => out("recv", { client: name, event, args }));
    s.on("q1", (x, cb) => cb(name, x));
    s.on("q2", (x, cb) => {
      if (name !== "c3") cb(name, x);
    });
    clients.push({ name, s, end: once(s, "end", 12000) });
  }
  for (const c of clients) {
    await connected(c.s);
    out("connect", { client: c.name, id: c.s.id });
  }
  // c2 asks the server to join room "D" (Join from a handler).
  if (n > 2) out("joined", { client: "c2", args: await ack(clients[2].s, 3000, "join", "D") });
  for (const c of clients) {
    await settle(c.s);
    c.s.emit("ready");
  }
  for (const c of clients) {
    await c.end;
    out("transport", { client: c.name, name: c.s.io.engine.transport.name });
  }
});
