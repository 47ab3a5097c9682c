// Scenario 8: the server restarts; the client reconnects by itself. The
// client says "hello" with its connection count on every connect; the
// (second) server answers "bye".
"use strict";
const { out, connect, once, settle, run } = require("./client_common");

run(async () => {
  const s = connect("/", { auth: { name: "r" } });
  let n = 0;
  s.on("connect", () => {
    n++;
    out("connect", { n, id: s.id, transport: s.io.engine.transport.name });
    s.emit("hello", n);
  });
  s.on("disconnect", (reason) => out("disconnect", { reason, active: s.active }));
  s.on("connect_error", (err) => out("connect_error", { message: err.message }));
  s.io.on("reconnect", (attempt) => out("reconnect", { attempt }));
  const bye = await once(s, "bye", 15000);
  out("bye", { args: bye });
  out("transport", { name: await settle(s) });
});
