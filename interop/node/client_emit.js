// Scenario 3: events with JSON values both ways, acknowledgements both
// ways (immediate, later, empty, timed out), client timeouts.
"use strict";
const { out, connect, once, connected, settle, ack, run } = require("./client_common");

run(async () => {
  const s = connect("/");
  // Listeners first: what the server emits on connection arrives in the
  // same batch as the CONNECT packet.
  const srvTypes = once(s, "types");
  const serverDone = once(s, "server-done", 10000);
  s.on("question", (n, cb) => {
    out("question", { n });
    cb(n * 2, "ok", { n });
  });
  s.on("noanswer", (x, cb) => out("noanswer", { x, hasCallback: typeof cb === "function" }));
  s.on("answer", (x, cb) => cb("answered", x));
  await connected(s);
  out("types", { args: await srvTypes });

  s.emit("types", "str", 42, -7, 3.14, 1e21, true, false, null,
    [1, "two", { three: 3 }], { nested: { a: [1, 2], b: null } },
    "héllo ✓ 😀 \u2028 \"q\" \\ <>&", 9007199254740991, "", {}, []);

  out("ack", { label: "sync", args: await ack(s, 3000, "echo", "a", 1, { b: [true] }) });
  out("ack", { label: "later", args: await ack(s, 3000, "later", "x") });
  out("ack", { label: "empty", args: await ack(s, 3000, "empty") });
  try {
    const res = await ack(s, 300, "never", "ignored");
    out("ack", { label: "never", args: res });
  } catch (err) {
    out("ack", { label: "never", error: err.message });
  }
  out("ack", { label: "emitWithAck", args: [await s.timeout(3000).emitWithAck("echo", "promise")] });

  s.emit("ready"); // the server now runs its EmitWithAck checks
  await serverDone;
  out("transport", { name: await settle(s) });
});
