// A Node.js Socket.IO server with @socket.io/redis-adapter, one node of the
// mixed clusters of ../node_test.go. Usage: node server.js KEY, for the
// classic adapter (createAdapter, key KEY), or node server.js KEY sharded
// MODE, for the sharded one (createShardedAdapter, channelPrefix KEY,
// subscriptionMode MODE). It prints "listening PORT" once its adapter is subscribed, and exits when
// its stdin closes (the Go test holds the other end).
//
// Like the Go test servers, a socket joins the rooms of its query's
// "rooms" and answers nothing itself. A control socket (query ctl=1) drives
// this server: each "do" event runs one operation and acknowledges its
// result.
"use strict";
const http = require("node:http");
const { Server } = require("socket.io");
const { createClient } = require("redis");
const { createAdapter, createShardedAdapter } = require("@socket.io/redis-adapter");

async function main() {
  const [key, flavor, subscriptionMode] = process.argv.slice(2);
  const pub = createClient({ url: "redis://127.0.0.1:6379" });
  const sub = pub.duplicate();
  pub.on("error", (e) => console.error("redis pub:", e.message));
  sub.on("error", (e) => console.error("redis sub:", e.message));
  await Promise.all([pub.connect(), sub.connect()]);

  const httpServer = http.createServer();
  const adapter =
    flavor === "sharded"
      ? createShardedAdapter(pub, sub, { channelPrefix: key, subscriptionMode })
      : createAdapter(pub, sub, { key, requestsTimeout: 3000 });
  const io = new Server(httpServer, { adapter });

  io.on("connection", (socket) => {
    const rooms = socket.handshake.query.rooms;
    if (rooms) socket.join(rooms.split(","));
    if (socket.handshake.query.ctl !== "1") return;
    socket.on("do", async (op, ack) => {
      try {
        const result = await run(op);
        // The adapter publishes without waiting; a PING on the same
        // connection returns once Redis has processed what went before,
        // so the test's next publish comes after this operation's.
        await pub.ping();
        ack({ ok: true, result });
      } catch (e) {
        ack({ ok: false, error: String(e && e.message) });
      }
    });
  });

  // Server-side events from the other servers: "sse" is relayed to this
  // server's clients, "sseack" is answered.
  io.on("sse", (arg) => io.local.emit("ev", "sse:" + arg));
  io.on("sseack", (arg, cb) => cb("node:" + arg));

  function target(op) {
    let t = io;
    if (op.to && op.to.length) t = t.to(op.to);
    if (op.except && op.except.length) t = t.except(op.except);
    if (op.local) t = t.local;
    if (op.volatile) t = t.volatile;
    return t;
  }

  async function run(op) {
    switch (op.op) {
      case "emit":
        target(op).emit(op.event, ...(op.binary ? [Buffer.from(op.args[0], "hex")] : op.args));
        return null;
      case "emitWithAck": {
        const answers = await target(op).timeout(3000).emitWithAck(op.event);
        return answers;
      }
      case "join":
        target(op).socketsJoin(op.rooms);
        return null;
      case "leave":
        target(op).socketsLeave(op.rooms);
        return null;
      case "disconnect":
        target(op).disconnectSockets(!!op.close);
        return null;
      case "fetch": {
        const socks = await target(op).fetchSockets();
        return socks.map((s) => ({ id: s.id, rooms: [...s.rooms], query: s.handshake.query }));
      }
      case "serverSideEmit":
        io.serverSideEmit(op.event, ...op.args);
        return null;
      case "serverSideEmitWithAck":
        return await io.serverSideEmitWithAck(op.event, ...op.args);
      case "serverCount":
        return await io.of("/").adapter.serverCount();
    }
    throw new Error("unknown op " + op.op);
  }

  httpServer.listen(0, "127.0.0.1", () => {
    console.log("listening " + httpServer.address().port);
  });
  process.stdin.resume();
  process.stdin.on("end", async () => {
    io.close();
    await Promise.allSettled([pub.quit(), sub.quit()]);
    process.exit(0);
  });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
