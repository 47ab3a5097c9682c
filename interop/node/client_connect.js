// Scenario 1: namespaces. Connect to "/" and to custom namespaces,
// multiplex two namespaces on one manager, an unknown namespace, dynamic
// namespaces with parent middleware.
"use strict";
const { io, out, connect, track, once, connected, settle, ack, transportOpts, url, run } = require("./client_common");

run(async () => {
  // "/" on its own connection.
  const root = connect("/");
  const rootWelcome = once(root, "welcome");
  await connected(root);
  out("connect", { nsp: "/", id: root.id });
  out("welcome", { nsp: "/", data: (await rootWelcome)[0] });

  // "/a" and "/b" multiplexed: io() reuses the cached manager for the
  // same URL when the namespace differs.
  const a = track(io(url + "/a", transportOpts()));
  const b = track(io(url + "/b", transportOpts()));
  const aWelcome = once(a, "welcome");
  const bWelcome = once(b, "welcome");
  out("multiplex", { same: a.io === b.io });
  await Promise.all([connected(a), connected(b)]);
  out("connect", { nsp: "/a", id: a.id });
  out("connect", { nsp: "/b", id: b.id });
  out("welcome", { nsp: "/a", data: (await aWelcome)[0] });
  out("welcome", { nsp: "/b", data: (await bWelcome)[0] });
  // Events are routed by namespace on the shared connection.
  const [ra, rb] = await Promise.all([
    ack(a, 3000, "whoami", "from-a"),
    ack(b, 3000, "whoami", "from-b"),
  ]);
  out("whoami", { nsp: "/a", ack: ra });
  out("whoami", { nsp: "/b", ack: rb });

  // Unknown namespace.
  const bad = connect("/nope");
  try {
    await connected(bad);
    out("connect", { nsp: "/nope" });
  } catch (err) {
    out("connect_error", { nsp: "/nope", message: err.message, data: err.data });
  }
  out("active", { nsp: "/nope", active: bad.active });

  // Dynamic namespaces (server: OfRegexp /^\/dyn-\d+$/ with middleware).
  const d1 = connect("/dyn-1");
  const d2 = connect("/dyn-2");
  const d1Welcome = once(d1, "welcome");
  const d2Welcome = once(d2, "welcome");
  const d1Fan = once(d1, "fan");
  const d2Fan = once(d2, "fan");
  await Promise.all([connected(d1), connected(d2)]);
  out("connect", { nsp: "/dyn-1", id: d1.id });
  out("connect", { nsp: "/dyn-2", id: d2.id });
  out("welcome", { nsp: "/dyn-1", data: (await d1Welcome)[0] });
  out("welcome", { nsp: "/dyn-2", data: (await d2Welcome)[0] });
  d1.emit("fanout", "hello children");
  out("fan", { nsp: "/dyn-1", args: await d1Fan });
  out("fan", { nsp: "/dyn-2", args: await d2Fan });

  const d13 = connect("/dyn-13");
  try {
    await connected(d13);
    out("connect", { nsp: "/dyn-13" });
  } catch (err) {
    out("connect_error", { nsp: "/dyn-13", message: err.message, data: err.data });
  }

  out("transport", { nsp: "/", name: await settle(root) });
  out("transport", { nsp: "/a", name: await settle(a) });
});
