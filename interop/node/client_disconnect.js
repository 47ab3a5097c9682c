// Scenario 7: disconnect reasons on both sides. Each case on its own
// connection (auth {name}); the server handles "kick" (Disconnect(false))
// and "kick-close" (Disconnect(true)).
"use strict";
const { out, connect, once, connected, settle, sleep, run } = require("./client_common");

async function open(name, nsps) {
  const s = connect("/", { auth: { name } });
  const others = (nsps || []).map((n) => s.io.socket(n, { auth: { name: name + n } }));
  await connected(s);
  for (const o of others) await connected(o);
  await settle(s);
  return [s, ...others];
}

run(async () => {
  // Server Socket.Disconnect(false).
  {
    const [s] = await open("kick");
    const d = once(s, "disconnect");
    s.emit("kick");
    const [reason] = await d;
    // The point of the sleep: a reconnection would start within it; the
    // socket must stay inactive.
    await sleep(300);
    out("disconnect", { name: "kick", reason, active: s.active, connected: s.connected });
    // A kicked socket may connect again by hand.
    const oldID = s.id;
    s.connect();
    await connected(s);
    out("reconnected", { name: "kick", newID: s.id !== oldID && !!s.id, pong: await s.timeout(3000).emitWithAck("ping") });
  }
  // Server Socket.Disconnect(true) on "/" of a connection that also has
  // "/other": both namespaces are disconnected.
  {
    const [s, o] = await open("kick-close", ["/other"]);
    const d = once(s, "disconnect");
    const od = once(o, "disconnect");
    s.emit("kick-close");
    const [reason] = await d;
    const [oreason] = await od;
    await sleep(300); // as above: no reconnection may start
    out("disconnect", { name: "kick-close", reason, active: s.active });
    out("disconnect", { name: "kick-close/other", reason: oreason, active: o.active });
  }
  // Client socket.disconnect().
  {
    const [s] = await open("client");
    const d = once(s, "disconnect");
    s.disconnect();
    out("disconnect", { name: "client", reason: (await d)[0] });
  }
  // Client closes its whole manager (engine connection).
  {
    const [s] = await open("manager");
    const d = once(s, "disconnect");
    s.io.disconnect();
    out("disconnect", { name: "manager", reason: (await d)[0] });
  }
  // Client socket.disconnect() of one namespace keeps the other connected.
  {
    const [s, o] = await open("partial", ["/other"]);
    const d = once(o, "disconnect");
    o.disconnect();
    out("disconnect", { name: "partial/other", reason: (await d)[0] });
    // Reconnect that namespace on the same, still open, connection.
    o.connect();
    await connected(o);
    out("reconnected", { name: "partial/other", pong: await o.timeout(3000).emitWithAck("ping") });
    const pong = await s.timeout(3000).emitWithAck("ping");
    out("still-connected", { name: "partial", pong, connected: s.connected });
  }
});
