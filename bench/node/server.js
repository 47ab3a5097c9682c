// The Node.js reference side of the benchmark contract (bench/README.md):
// socket.io@4 on its default WebSocket library, ws. Namespace "/": event
// "echo" is acknowledged with its own arguments; event "broadcast" is
// emitted with its arguments to every socket of "/".
//
//   node server.js [port]        listens on 127.0.0.1:port (default 3000)
//
// With REDIS_URL set (e.g. redis://127.0.0.1:6379) the server is one node
// of a cluster: @socket.io/redis-adapter (createAdapter, one publishing and
// one subscribing client of the redis package) with key REDIS_KEY (default
// "socket.io"), so a "broadcast" received on one node reaches the sockets
// of every node (bench/cluster.sh). It listens once the adapter is
// subscribed.
//
// With RATE_LIMIT=RATE:BURST (the flood scenario) every socket gets a token
// bucket in a socket.use() middleware, as a Node application would write
// it (socket.io has none built in): an event beyond the limit is not
// handled, and its ack, if asked for, answers {error: "rate limit exceeded"}.
//
// With TLS_CERT and TLS_KEY (PEM files) it serves HTTPS/WSS through
// https.createServer; with PERMESSAGE_DEFLATE=1 it enables WebSocket
// permessage-deflate (perMessageDeflate: true, ws's defaults otherwise:
// threshold 1024 bytes, context takeover unless the client declines it)
// (bench/paths.sh).
"use strict";
const http = require("http");
const { Server } = require("socket.io");

async function main() {
  const port = Number(process.argv[2] || 3000);
  const tls = process.env.TLS_CERT && process.env.TLS_KEY;
  const httpServer = tls
    ? require("https").createServer({
        cert: require("fs").readFileSync(process.env.TLS_CERT),
        key: require("fs").readFileSync(process.env.TLS_KEY),
      })
    : http.createServer();
  const opts = { serveClient: false };
  if (process.env.PERMESSAGE_DEFLATE === "1") opts.perMessageDeflate = true;
  if (process.env.REDIS_URL) {
    const { createClient } = require("redis");
    const { createAdapter } = require("@socket.io/redis-adapter");
    const pub = createClient({ url: process.env.REDIS_URL });
    const sub = pub.duplicate();
    pub.on("error", (e) => console.error("redis pub:", e.message));
    sub.on("error", (e) => console.error("redis sub:", e.message));
    await Promise.all([pub.connect(), sub.connect()]);
    opts.adapter = createAdapter(pub, sub, { key: process.env.REDIS_KEY || "socket.io" });
  }
  const io = new Server(httpServer, opts);

  const limit = (process.env.RATE_LIMIT || "").split(":").map(Number);
  io.on("connection", (socket) => {
    if (limit.length >= 2 && limit[0] > 0) {
      const [rate, burst] = limit;
      let tokens = burst;
      let last = process.hrtime.bigint();
      socket.use((packet, next) => {
        const now = process.hrtime.bigint();
        tokens = Math.min(burst, tokens + (Number(now - last) / 1e9) * rate);
        last = now;
        if (tokens >= 1) {
          tokens -= 1;
          return next();
        }
        const ack = packet[packet.length - 1];
        if (typeof ack === "function") ack({ error: "rate limit exceeded" });
      });
    }
    socket.on("echo", (...args) => {
      const ack = args.pop();
      if (typeof ack === "function") ack(...args);
    });
    socket.on("broadcast", (...args) => {
      if (typeof args[args.length - 1] === "function") args.pop();
      io.emit("broadcast", ...args);
    });
  });

  httpServer.listen(port, "127.0.0.1", () => {
    console.log(`node socket.io ${require("socket.io/package.json").version} listening on 127.0.0.1:${port} pid ${process.pid}${tls ? " tls" : ""}${opts.perMessageDeflate ? " permessage-deflate" : ""}${opts.adapter ? " redis " + process.env.REDIS_URL : ""}`);
  });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
