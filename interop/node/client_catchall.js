// Scenario 11: catch-all listeners. The client prints what its onAny and
// onAnyOutgoing listeners see; the server records its OnAny and
// OnAnyOutgoing.
"use strict";
const { out, connect, once, connected, settle, ack, run } = require("./client_common");

run(async () => {
  const s = connect("/");
  s.onAny((event, ...args) => out("any", { event, args }));
  s.onAnyOutgoing((event, ...args) => out("anyOut", { event, args }));
  const done = once(s, "done");
  await connected(s);
  s.emit("a", 1);
  s.emit("b", { x: 2 }, Buffer.from([3]));
  out("ack", { args: await ack(s, 3000, "c", "with-ack") });
  s.emit("finish");
  await done;
  out("ack", { args: await ack(s, 3000, "z", "after OffAny") });
  out("transport", { name: await settle(s) });
});
