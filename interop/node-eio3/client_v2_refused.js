// A Socket.IO v2 client against a server without AllowEIO3: the handshake
// is refused (code 5, "Unsupported protocol version"), which the client
// reports as connect_error. Usage: node client_v2_refused.js <url>
"use strict";

const path = require("path");
const io = require(path.join(__dirname, "node_modules", "socket.io-client"));

function out(ev, fields) {
  process.stdout.write(JSON.stringify(Object.assign({ ev }, fields || {})) + "\n");
}

const wd = setTimeout(() => {
  out("watchdog", {});
  process.exit(2);
}, 10000);
wd.unref();

const s = io(process.argv[2], { forceNew: true, transports: ["polling"], reconnection: false });
s.on("connect", () => {
  out("fail", { message: "connected" });
  s.close();
  setTimeout(() => process.exit(1), 50);
});
s.on("connect_error", (err) => {
  out("connect_error", { message: String(err && err.message), description: String(err && err.description) });
  s.close();
  out("exit", { code: 0 });
  setTimeout(() => process.exit(0), 50);
});
