// Scenario 9: the server's payload limit (Options.Engine.MaxPayload = 1000
// in the test). A message under the limit passes; a larger one closes the
// sender's connection; another client is unaffected.
"use strict";
const { out, connect, connected, once, settle, ack, run } = require("./client_common");

run(async () => {
  const victim = connect("/", { auth: { name: "victim" }, reconnection: false });
  const bystander = connect("/", { auth: { name: "bystander" } });
  await Promise.all([connected(victim), connected(bystander)]);
  await settle(victim);
  await settle(bystander);
  out("maxPayload", { value: victim.io.engine._maxPayload === undefined ? null : victim.io.engine._maxPayload });

  const [small] = await ack(victim, 3000, "echo", "s".repeat(900));
  out("small", { len: small.length });

  const d = once(victim, "disconnect", 5000);
  victim.emit("big", "x".repeat(5000));
  const [reason, details] = await d;
  out("victim-disconnect", { reason, active: victim.active, description: details && details.description ? String(details.description.message || details.description) : null });

  out("bystander", { args: await ack(bystander, 3000, "echo", "still here"), connected: bystander.connected, transport: bystander.io.engine.transport.name });
});
