// Connection state recovery against the Go server: the client says
// "ready" on its first connection (the server puts it in a room and sends
// it news), then its connection is cut as a network failure would cut it;
// while it is away the server sends more. On its return the official
// client must be told it was recovered, keep its id, get what it missed,
// then what follows ("live").
"use strict";
const { out, connect, once, settle, ack, run } = require("./client_common");

run(async () => {
  const s = connect("/", { auth: { name: "rec" } });
  let n = 0;
  s.on("connect", () => {
    n++;
    out("connect", { n, id: s.id, recovered: s.recovered });
    s.emit(n === 1 ? "ready" : "back");
  });
  s.on("disconnect", (reason) => out("disconnect", { reason }));
  s.on("connect_error", (err) => out("connect_error", { message: err.message }));
  for (const ev of ["news", "direct", "elsewhere", "live"]) {
    s.on(ev, (...args) => out(ev, { args }));
  }
  const live = once(s, "live", 12000);
  await once(s, "news", 5000);
  await settle(s); // in upgrade mode, cut the WebSocket, not a poll
  // An ack over the WebSocket comes after the server handled the upgrade
  // packet sent before it: the cut then ends the session, not a probe.
  out("before-cut", { transport: (await ack(s, 3000, "transport"))[0] });
  s.io.engine.close(); // the server sees "transport close"; the manager reconnects
  await live;
  out("transport", { name: await settle(s) });
});
