// Forwarded arguments and typed handlers, seen by the official client:
// a message relayed by the server with RawArgs arrives with its keys in
// the sender's order and its Buffers in place; a typed handler answers a
// badly typed argument with {error}.
"use strict";
const { out, connect, once, connected, run } = require("./client_common");

run(async () => {
  const a = connect("/");
  const b = connect("/");
  await Promise.all([connected(a), connected(b)]);
  out("join", { res: await b.timeout(3000).emitWithAck("join", "room1") });

  const relayed = once(b, "relayed");
  a.emit("relay", "room1", { z: 1, a: Buffer.from("pic"), list: [Buffer.from([0, 255]), "s"] }, Buffer.from("tail"));
  const args = await relayed;
  out("relayed", { args, keys: Object.keys(args[1]) });

  out("add-ok", { res: await a.timeout(3000).emitWithAck("add", 2, 3) });
  out("add-bad", { res: await a.timeout(3000).emitWithAck("add", 2, "three") });
});
