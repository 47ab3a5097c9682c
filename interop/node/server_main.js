// The official Node.js server (socket.io@4) for the Go client's interop
// tests (goclient_node_test.go). Usage: node server_main.js PORT
//
// It listens on 127.0.0.1:PORT and prints JSON lines on stdout: first
// {"ev":"listening"}, then what it observes ({"ev":"connection"...},
// {"ev":"note"...}, {"ev":"disconnect"...}), so that the Go test can check
// the server's side too.
//
// Namespaces "/", "/chat" and "/admin" (which requires auth
// {"token":"secret"}) have the same handlers:
//   welcome  emitted on connection: {nsp, id, auth, engine}
//   echo     acknowledged with its arguments, or emitted back as "echo"
//   ask      the server asks the client "question" (x, <Buffer 01 02 03>)
//            with an ack and emits "answer" with the client's answer
//   binary   acknowledged with the bytes reversed, plus a "binary" event
//            {reversed: <Buffer>, len: n}
//   note     printed, acknowledged with ("noted", x) when asked
//   kick     the server disconnects the socket
"use strict";

const http = require("http");
const { Server } = require("socket.io");

const port = Number(process.argv[2]);
if (!port) {
  console.error("usage: node server_main.js PORT");
  process.exit(2);
}

const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

const httpServer = http.createServer();
const io = new Server(httpServer, {
  // A fast heartbeat, so that the tests exercise it (and detect a frozen
  // server quickly).
  pingInterval: 300,
  pingTimeout: 400,
  // server_msgpack.js: socket.io-msgpack-parser instead of the default.
  ...(process.env.SWITCHBOARD_NODE_PARSER === "msgpack" ? { parser: require("socket.io-msgpack-parser") } : {}),
});

function register(nsp) {
  nsp.on("connection", (socket) => {
    out({ ev: "connection", nsp: nsp.name, id: socket.id, auth: socket.handshake.auth });
    socket.emit("welcome", {
      nsp: nsp.name,
      id: socket.id,
      auth: socket.handshake.auth,
      engine: socket.conn.id,
    });
    socket.on("echo", (...args) => {
      const cb = typeof args[args.length - 1] === "function" ? args.pop() : null;
      if (cb) cb(...args);
      else socket.emit("echo", ...args);
    });
    socket.on("ask", (x) => {
      socket.timeout(5000).emit("question", x, Buffer.from([1, 2, 3]), (err, ...answer) => {
        if (err) socket.emit("answer", "error: " + err.message);
        else socket.emit("answer", ...answer);
      });
    });
    socket.on("binary", (buf, cb) => {
      const reversed = Buffer.from(buf).reverse();
      socket.emit("binary", { reversed, len: reversed.length });
      if (typeof cb === "function") cb(reversed);
    });
    socket.on("note", (x, cb) => {
      out({ ev: "note", nsp: nsp.name, x });
      if (typeof cb === "function") cb("noted", x);
    });
    socket.on("kick", () => socket.disconnect());
    socket.on("disconnect", (reason) => out({ ev: "disconnect", nsp: nsp.name, id: socket.id, reason }));
  });
}

register(io.of("/"));
register(io.of("/chat"));
const admin = io.of("/admin");
admin.use((socket, next) => {
  if (socket.handshake.auth && socket.handshake.auth.token === "secret") return next();
  const err = new Error("unauthorized");
  err.data = { code: 401, hint: "token" };
  next(err);
});
register(admin);

httpServer.listen(port, "127.0.0.1", () => out({ ev: "listening", port }));
process.on("SIGTERM", () => process.exit(0));
