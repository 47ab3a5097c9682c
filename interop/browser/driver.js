// Browser driver for ../browser_test.go: the official socket.io-client
// (served by the Go server itself at /socket.io/socket.io.js) running in real
// headless Debian Chromium, driven by playwright-core (which never downloads
// a browser of its own).
//
// Usage: node driver.js <url> <screenshot-dir> [chromium]
//   url — the Go test server's base URL, e.g. http://127.0.0.1:41234; it
//         serves the chat page at /, the client at /socket.io/socket.io.js and
//         GET /test/kick?name=N, which makes the server call
//         Disconnect(false) on page N's socket.
//   chromium — the browser binary (default /usr/bin/chromium); the Go test
//         passes $SWITCHBOARD_CHROMIUM when set.
//
// It opens three pages, each in its own browser context: A and B with the
// client's default transports (polling, then upgrade to WebSocket) and C
// with transports: ['websocket']. Every line on stdout is one JSON object
// with an "ev" field (the format of ../helpers_test.go); it ends with
// {"ev":"exit"} and code 0, or {"ev":"fail"} and code 1, or
// {"ev":"watchdog"} and code 2.
"use strict";

const fs = require("fs");
const path = require("path");
const { chromium } = require("playwright-core");

const STEP_MS = 10000; // bound of one wait in a page
const WATCHDOG_MS = 45000; // the Go side gives up at 60s

const url = process.argv[2];
const shotDir = process.argv[3];
const chromiumPath = process.argv[4] || "/usr/bin/chromium";
if (!url || !shotDir) {
  console.error("usage: node driver.js <url> <screenshot-dir> [chromium]");
  process.exit(64);
}

const t0 = Date.now();
function out(ev, fields) {
  process.stdout.write(JSON.stringify(Object.assign({ ev }, fields || {})) + "\n");
}
function step(name) {
  out("timing", { step: name, ms: Date.now() - t0 });
}

let browser = null;
const watchdog = setTimeout(() => {
  out("watchdog", { ms: WATCHDOG_MS });
  const b = browser;
  browser = null;
  Promise.race([b ? b.close() : null, new Promise((r) => setTimeout(r, 3000))]).finally(() => process.exit(2));
}, WATCHDOG_MS);

async function main() {
  const origin = new URL(url).origin;
  // A fresh profile in a temp dir; launch() makes and removes it itself.
  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  out("browser", { version: browser.version() });
  step("launched");

  const specs = [
    { name: "A", query: "" },
    { name: "B", query: "" },
    { name: "C", query: "&transports=websocket" },
  ];
  const pages = {};
  for (const spec of specs) {
    const ctx = await browser.newContext({ viewport: { width: 640, height: 400 } });
    const page = await ctx.newPage();
    page.setDefaultTimeout(STEP_MS);
    page.on("pageerror", (e) => out("pageerror", { name: spec.name, message: String(e && e.message) }));
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warning") out("console", { name: spec.name, type: m.type(), text: m.text() });
    });
    // The page must need nothing but our server: anything else is reported
    // and refused (the network is closed anyway).
    await ctx.route("**/*", (route) => {
      const u = route.request().url();
      if (u.startsWith(origin + "/")) return route.continue();
      out("offsite", { name: spec.name, url: u });
      return route.abort();
    });
    pages[spec.name] = page;
    await page.goto(url + "/?name=" + spec.name + spec.query);
  }
  step("pages opened");

  // Every page connects; the default ones open on polling and upgrade.
  for (const spec of specs) {
    const page = pages[spec.name];
    await page.waitForFunction(() => window.socket && window.socket.connected);
    if (!spec.query) {
      await page.waitForFunction(() => window.trace.upgrades.length > 0 && window.socket.io.engine.transport.name === "websocket");
    }
    const st = await page.evaluate(() => ({
      id: socket.id,
      openTransport: trace.openTransport,
      upgrades: trace.upgrades,
      transport: socket.io.engine.transport.name,
    }));
    out("page", Object.assign({ name: spec.name }, st));
  }
  step("connected");

  // A types a message into the form; every page shows it.
  const text = "hello from A " + Date.now();
  await pages.A.fill("#input", text);
  await pages.A.click("button");
  for (const spec of specs) {
    const li = pages[spec.name].locator("#messages li", { hasText: text });
    await li.waitFor();
    out("chat", { name: spec.name, text: await li.first().textContent(), count: await li.count() });
  }
  step("chat");

  // Ack and binary round trips from every page.
  for (const spec of specs) {
    const r = await pages[spec.name].evaluate(async (stepMs) => {
      const hex = (b) => Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, "0")).join("");
      const kind = (v) => Object.prototype.toString.call(v);
      const sum = await socket.timeout(stepMs).emitWithAck("add", 2, 40);
      const sent = new Uint8Array([0, 1, 2, 127, 128, 254, 255]).buffer;
      const got = await socket.timeout(stepMs).emitWithAck("bin", sent, "tag");
      // The server also emits the bytes back as a binary event.
      const start = Date.now();
      while (trace.bins.length === 0 && Date.now() - start < stepMs) await new Promise((r) => setTimeout(r, 20));
      const ev = trace.bins[0] || [];
      return {
        sum,
        ackLen: got.len,
        ackTag: got.tag,
        ackType: kind(got.data),
        ackHex: got.data instanceof ArrayBuffer ? hex(got.data) : null,
        eventType: kind(ev[0]),
        eventHex: ev[0] instanceof ArrayBuffer ? hex(ev[0]) : null,
        eventTag: ev[1],
        transport: socket.io.engine.transport.name,
      };
    }, STEP_MS);
    out("roundtrip", Object.assign({ name: spec.name }, r));
  }
  step("ack+binary");

  // The Go server disconnects B's socket.
  const res = await fetch(url + "/test/kick?name=B");
  out("kick", { status: res.status, body: await res.text() });
  await pages.B.waitForFunction(() => window.trace.disconnectReason !== null);
  // Give a reconnection, which must not happen, the time to start.
  await pages.B.waitForTimeout(500);
  out(
    "disconnect",
    Object.assign(
      { name: "B" },
      await pages.B.evaluate(() => ({
        reason: trace.disconnectReason,
        connected: socket.connected,
        active: socket.active,
        status: document.getElementById("status").textContent,
      }))
    )
  );
  for (const name of ["A", "C"]) {
    const li = pages[name].locator("#messages li", { hasText: "a user left" });
    await li.first().waitFor();
    out("left", {
      name,
      text: await li.first().textContent(),
      connected: await pages[name].evaluate(() => socket.connected),
    });
  }
  step("server disconnect");

  fs.mkdirSync(shotDir, { recursive: true });
  for (const spec of specs) {
    const file = path.join(shotDir, "page-" + spec.name + ".png");
    await pages[spec.name].screenshot({ path: file });
    out("screenshot", { name: spec.name, path: file, bytes: fs.statSync(file).size });
  }
  step("screenshots");
}

main()
  .then(
    () => 0,
    (e) => {
      out("fail", { error: String((e && e.stack) || e) });
      return 1;
    }
  )
  .then(async (code) => {
    clearTimeout(watchdog);
    if (browser) await browser.close().catch(() => {});
    step("closed");
    if (code === 0) out("exit");
    process.exitCode = code;
  });
