// Scenario 10: the server acts on sockets in bulk (FetchSockets,
// SocketsJoin/Leave, RemoteSocket.Emit, DisconnectSockets). N clients
// (argument, default 3) print every event ("recv") and their disconnect
// reason; the script ends when the server has disconnected them all.
"use strict";
const { out, connect, once, connected, settle, extra, run } = require("./client_common");

run(async () => {
  const n = Number(extra[0] || 3);
  const clients = [];
  for (let i = 0; i < n; i++) {
    const name = "c" + i;
    const s = connect("/", { auth: { name } });
    s.onAny((event, ...args) => out("recv", { client: name, event, args }));
    s.on("sync", (cb) => cb(name));
    clients.push({ name, s, gone: once(s, "disconnect", 12000) });
  }
  for (const c of clients) {
    await connected(c.s);
    out("connect", { client: c.name, id: c.s.id, transport: await settle(c.s) });
  }
  for (const c of clients) c.s.emit("ready");
  for (const c of clients) {
    const [reason] = await c.gone;
    await new Promise((r) => setTimeout(r, 0));
    out("disconnect", { client: c.name, reason, active: c.s.active });
  }
});
