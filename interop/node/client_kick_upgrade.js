// Issue 15, item 4: a socket disconnected by the server (Disconnect(true))
// while its transport is being upgraded from polling to WebSocket must
// hear the DISCONNECT ("io server disconnect") at once, not a ping
// timeout 45 s later followed by a reconnection. The server kicks on
// "kick-me", which the client emits as soon as it connects: while the
// upgrade is under way.
// Usage: node client_kick_upgrade.js <url> upgrade [trials]
"use strict";
const { out, connect, extra, once, run } = require("./client_common");

run(async () => {
  const trials = Number(extra[0] || 40);
  let heard = 0;
  const others = {};
  for (let i = 0; i < trials; i++) {
    const s = connect("/", { reconnection: false });
    s.on("connect", () => s.emit("kick-me"));
    const reason = await once(s, "disconnect", 3000).then(([r]) => r, () => "nothing within 3 s");
    if (reason === "io server disconnect") heard++;
    else others[reason] = (others[reason] || 0) + 1;
    s.close();
  }
  out("kicked", { trials, heard, others });
}, 120000);
