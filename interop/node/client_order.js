// Ordering across the polling→WebSocket upgrade, and heartbeats. The
// server emits "seq" 0..N-1 from a goroutine as soon as the client
// connects (while the upgrade runs, in upgrade mode) and the client emits
// "cseq" 0..N-1 at once too; both sides check that nothing is lost or
// reordered. Then the client idles across several ping intervals.
"use strict";
const { out, connect, once, connected, settle, ack, sleep, run } = require("./client_common");

run(async () => {
  const s = connect("/");
  const got = [];
  s.on("seq", (i) => got.push(i));
  let pings = 0;
  s.io.on("ping", () => pings++);
  const done = once(s, "seq-done", 10000);
  await connected(s);
  for (let i = 0; i < 300; i++) s.emit("cseq", i);
  const [n] = await done;
  out("seq", { count: got.length, inOrder: got.every((v, i) => v === i), n });
  out("cseq", { args: await ack(s, 3000, "cseq-count") });
  await sleep(1000); // the point: idle across several ping intervals
  out("heartbeat", { pings, connected: s.connected });
  out("transport", { name: await settle(s) });
});
