// Scenario 4: binary attachments both ways, nested in objects and arrays,
// binary acknowledgements both ways, a large binary round trip.
"use strict";
const { out, connect, once, connected, settle, ack, run } = require("./client_common");

run(async () => {
  const s = connect("/");
  const srvBin = once(s, "srvbin");
  const serverDone = once(s, "server-done", 10000);
  s.on("binq", (a, b, cb) => {
    out("binq", { args: [a, b] });
    cb(Buffer.from([4, 5, 6]), { x: Buffer.from("y"), list: [Buffer.alloc(0), 1] });
  });
  await connected(s);
  out("srvbin", { args: await srvBin });

  const res = await ack(s, 3000, "bin",
    Buffer.from([1, 2, 3]),
    { name: "x", data: Buffer.from("hello"), list: [Buffer.from([0, 255]), 5, { deep: Buffer.from([7]) }] },
    "plain");
  out("bin-ack", { args: res });

  // Typed array and ArrayBuffer arguments are binary too.
  const res2 = await ack(s, 3000, "typed", new Uint8Array([10, 11]), new Uint8Array([12, 13]).buffer);
  out("typed-ack", { args: res2 });

  const big = Buffer.alloc(100000, 0xab);
  big[0] = 1;
  big[big.length - 1] = 2;
  const [back] = await ack(s, 5000, "bigbin", big);
  out("bigbin-ack", { isBuffer: Buffer.isBuffer(back), equal: Buffer.isBuffer(back) && back.equals(big), len: back.length });

  s.emit("ready");
  await serverDone;
  out("transport", { name: await settle(s) });
});
