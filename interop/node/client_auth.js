// Scenario 2: auth payload, middleware refusal (connect_error with message
// and data), retry with a new auth, handshake query and extra headers.
"use strict";
const { out, connect, once, connected, settle, run } = require("./client_common");

async function tryConnect(s, label) {
  try {
    await connected(s);
    out("connect", { label, id: s.id });
    return true;
  } catch (err) {
    out("connect_error", { label, message: err.message, data: err.data, active: s.active });
    return false;
  }
}

run(async () => {
  const s = connect("/", {
    auth: { token: "wrong" },
    query: { q1: "v1", "x y": "z&w" },
    extraHeaders: { "x-test": "hdr-value" },
  });
  await tryConnect(s, "wrong-token");

  // Retry the refused socket with a good token (same manager options).
  s.auth = { token: "s3cret", n: 1, nested: { ok: true, list: [1, "two", null] } };
  const hs = once(s, "handshake");
  s.connect();
  if (await tryConnect(s, "good-token")) {
    out("handshake", { data: (await hs)[0] });
  }

  // auth given as a function.
  const f = connect("/", { auth: (cb) => cb({ token: "s3cret", fn: true }) });
  const fhs = once(f, "handshake");
  if (await tryConnect(f, "auth-func")) {
    out("handshake-func", { data: (await fhs)[0] });
  }

  // A plain Go error from middleware.
  await tryConnect(connect("/plain"), "plain");

  out("transport", { name: await settle(s) });
});
