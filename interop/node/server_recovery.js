// The official Node.js server (socket.io@4) with connection state
// recovery, for the Go client's recovery tests (goclient_recovery_test.go).
// Usage: node server_recovery.js PORT
//
// It listens on 127.0.0.1:PORT and prints JSON lines on stdout, as
// server_main.js does: {"ev":"listening"}, then {"ev":"connection", id,
// recovered, auth} (auth is the CONNECT payload, so the test sees the pid
// and offset the client sent), {"ev":"disconnect", id, reason} and
// {"ev":"replayed", n}.
//
// Events of the main namespace:
//   join   (room)     the socket joins room and is sent "joined" (room)
//   shout  (room, x)  "news" (x) is broadcast to room
//   cut               the server closes the socket's connection ("forced
//                     close" here, a recoverable reason)
// When a socket that joined a room is disconnected for a recoverable
// reason, the server emits, while the socket is away, the n-th time:
// "news" ("r<n>-1") to the room, "direct" ("r<n>-2") to the socket's id,
// "news" ("r<n>-3") to the room; then prints {"ev":"replayed", n}.
"use strict";

const http = require("http");
const { Server } = require("socket.io");

const port = Number(process.argv[2]);
if (!port) {
  console.error("usage: node server_recovery.js PORT");
  process.exit(2);
}

const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

// The reasons after which the server keeps the session (socket.io's
// RECOVERABLE_DISCONNECT_REASONS).
const recoverable = new Set([
  "transport error",
  "transport close",
  "forced close",
  "ping timeout",
  "server shutting down",
  "forced server close",
]);

const httpServer = http.createServer();
const io = new Server(httpServer, {
  // A fast heartbeat, so that a vanished client is noticed well within
  // the Go client's reconnection delay.
  pingInterval: 300,
  pingTimeout: 400,
  connectionStateRecovery: { maxDisconnectionDuration: 60000 },
});

let replays = 0;

io.on("connection", (socket) => {
  out({ ev: "connection", id: socket.id, recovered: socket.recovered, auth: socket.handshake.auth });
  socket.on("join", (room) => {
    socket.join(room);
    socket.data.room = room;
    socket.emit("joined", room);
  });
  socket.on("shout", (room, x) => io.to(room).emit("news", x));
  socket.on("cut", () => socket.conn.close());
  socket.on("disconnect", (reason) => {
    out({ ev: "disconnect", id: socket.id, reason });
    const room = socket.data.room;
    if (!recoverable.has(reason) || !room) return;
    const n = ++replays;
    io.to(room).emit("news", `r${n}-1`);
    io.to(socket.id).emit("direct", `r${n}-2`);
    io.to(room).emit("news", `r${n}-3`);
    out({ ev: "replayed", n });
  });
});

httpServer.listen(port, "127.0.0.1", () => out({ ev: "listening", port }));
process.on("SIGTERM", () => process.exit(0));
