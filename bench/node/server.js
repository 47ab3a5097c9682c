// The Node.js reference side of the benchmark contract (bench/README.md):
// socket.io@4 on its default WebSocket library, ws. Namespace "/": event
// "echo" is acknowledged with its own arguments; event "broadcast" is
// emitted with its arguments to every socket of "/".
//
//   node server.js [port]        listens on 127.0.0.1:port (default 3000)
"use strict";
const http = require("http");
const { Server } = require("socket.io");

const port = Number(process.argv[2] || 3000);
const httpServer = http.createServer();
const io = new Server(httpServer, { serveClient: false });

io.on("connection", (socket) => {
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
  console.log(`node socket.io ${require("socket.io/package.json").version} listening on 127.0.0.1:${port} pid ${process.pid}`);
});
