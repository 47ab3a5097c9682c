// The official client with socket.io-msgpack-parser against a Go server
// with msgpackparser: acknowledgements both ways, binary both ways, a
// broadcast to a room, a second namespace with a refusal.
"use strict";
const path = require("path");
const parser = require(path.join(__dirname, "node_modules", "socket.io-msgpack-parser"));
const { out, connect, once, connected, settle, ack, run } = require("./client_common");

run(async () => {
  const s = connect("/", { parser });
  const welcome = once(s, "welcome");
  await connected(s);
  out("welcome", { args: await welcome });

  out("echo-ack", {
    args: await ack(s, 3000, "echo", "héllo", 42, -1.5, { list: [1, "two", null], bin: Buffer.from([1, 2]) }, Buffer.from([255, 0])),
  });

  // The server asks with binary and an acknowledgement; the client
  // answers with binary.
  s.on("binq", (b, cb) => {
    out("binq", { args: [b] });
    cb(Buffer.concat([b, Buffer.from([9])]));
  });
  const asked = once(s, "asked");
  s.emit("ask");
  out("asked", { args: await asked });

  // A broadcast to a room reaches its member, not the sender.
  const s2 = connect("/", { parser });
  await connected(s2);
  let leaked = 0;
  s.on("shouted", () => leaked++);
  await ack(s2, 3000, "join", "room1");
  const shouted = once(s2, "shouted");
  // Acknowledged after the broadcast was queued: anything for s would be
  // ahead of the answer on its connection.
  await ack(s, 3000, "shout", "room1", { hi: "there" });
  out("shouted", { args: await shouted, leaked });

  // A second namespace, refused then joined.
  const bad = connect("/admin", { parser, auth: { token: "wrong" } });
  try {
    await connected(bad);
    out("bad-connected", {});
  } catch (e) {
    out("refused", { message: e.message, data: e.data });
  }
  const a = connect("/admin", { parser, auth: { token: "secret" } });
  await connected(a);
  out("whoami", { ack: await ack(a, 3000, "whoami") });

  out("transport", { name: await settle(s) });
});
