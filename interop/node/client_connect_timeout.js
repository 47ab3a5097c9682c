// Scenario 12: Options.ConnectTimeout (300ms in the test). A manager that
// opens the engine connection but joins no namespace is closed by the
// server; a socket that joined one stays connected past the timeout.
"use strict";
const { Manager, out, connect, once, connected, settle, ack, sleep, transportOpts, url, run } = require("./client_common");

run(async () => {
  const m = new Manager(url, Object.assign(transportOpts(), { autoConnect: false, reconnection: false }));
  const start = Date.now();
  const opened = once(m, "open", 5000);
  const closed = once(m, "close", 5000);
  m.open();
  await opened;
  const [reason] = await closed;
  out("idle-closed", { reason, afterMs: Date.now() - start });

  const s = connect("/");
  await connected(s);
  await sleep(800); // the point: past the 300ms ConnectTimeout, the joined socket stays
  out("ack", { args: await ack(s, 3000, "ping"), connected: s.connected });
  out("transport", { name: await settle(s) });
});
