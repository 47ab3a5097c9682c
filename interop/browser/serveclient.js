// Browser driver for ../serveclient_browser_test.go, also usable by hand
// against examples/chat: two tabs (each its own browser context) of a chat
// page whose only script source is /socket.io/socket.io.js, the official
// client as the Go server serves it. Headless Chromium, driven by
// playwright-core (which never downloads a browser of its own).
//
// Usage: node serveclient.js <url> <screenshot-dir> [chromium]
//   url      — the page, e.g. http://127.0.0.1:3000/. The page must have
//              a form #form with an input #input and a button, a list
//              #messages the chat messages go to, and a global `socket`.
//   chromium — default $CHROMIUM, else /usr/bin/chromium.
//
// Tab A sends "hello from A", B answers "hi from B"; each must appear in
// both tabs. Then A reloads, so that the browser revalidates its cached
// client. Every line on stdout is one JSON object with an "ev" field (the
// format of ../helpers_test.go); it ends with {"ev":"exit"} and code 0, or
// {"ev":"fail"} and code 1, or {"ev":"watchdog"} and code 2.
"use strict";

const fs = require("fs");
const path = require("path");
const { chromium } = require("playwright-core");

const STEP_MS = 10000; // bound of one wait in a page
const WATCHDOG_MS = 45000; // the Go side gives up at 60s

const [url, shotDir] = process.argv.slice(2, 4);
const executablePath = process.argv[4] || process.env.CHROMIUM || "/usr/bin/chromium";
if (!url || !shotDir) {
  console.error("usage: node serveclient.js <url> <screenshot-dir> [chromium]");
  process.exit(64);
}

function out(ev, fields) {
  process.stdout.write(JSON.stringify(Object.assign({ ev }, fields || {})) + "\n");
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
  browser = await chromium.launch({
    executablePath,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  out("browser", { version: browser.version() });

  const pages = {};
  for (const name of ["A", "B"]) {
    const ctx = await browser.newContext({ viewport: { width: 480, height: 300 } });
    const page = await ctx.newPage();
    page.setDefaultTimeout(STEP_MS);
    page.on("pageerror", (e) => out("pageerror", { name, message: String(e && e.message) }));
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warning") out("console", { name, type: m.type(), text: m.text() });
    });
    // Every script the page loads, with what the server answered.
    page.on("response", async (res) => {
      if (res.request().resourceType() !== "script") return;
      const h = await res.allHeaders();
      const req = await res.request().allHeaders();
      out("script", {
        name,
        url: res.url(),
        status: res.status(),
        contentType: h["content-type"] || null,
        contentEncoding: h["content-encoding"] || null,
        etag: h["etag"] || null,
        cacheControl: h["cache-control"] || null,
        ifNoneMatch: req["if-none-match"] || null,
      });
    });
    // The page must need nothing but this server. Observed, not
    // intercepted: interception would turn the browser's cache off.
    page.on("request", (req) => {
      if (!req.url().startsWith(origin + "/")) out("offsite", { name, url: req.url() });
    });
    await page.goto(url);
    pages[name] = page;
  }
  for (const [name, page] of Object.entries(pages)) {
    await page.waitForFunction(() => typeof socket !== "undefined" && socket.connected);
    // The upgrade follows the connection; on a loaded machine it may take
    // a moment. Whatever the transport is after 10 s is reported.
    await page.waitForFunction(() => socket.io.engine.transport.name === "websocket", null, { timeout: 10000 }).catch(() => {});
    out("page", { name, transport: await page.evaluate(() => socket.io.engine.transport.name) });
  }

  const say = async (from, text) => {
    await pages[from].fill("#input", text);
    await pages[from].click("button");
    for (const [name, page] of Object.entries(pages)) {
      const li = page.locator("#messages li", { hasText: text });
      await li.first().waitFor();
      out("chat", { name, text: await li.first().textContent(), count: await li.count() });
    }
  };
  await say("A", "hello from A");
  await say("B", "hi from B");

  fs.mkdirSync(shotDir, { recursive: true });
  for (const [name, page] of Object.entries(pages)) {
    const file = path.join(shotDir, "tab-" + name + ".png");
    await page.screenshot({ path: file });
    out("screenshot", { name, path: file, bytes: fs.statSync(file).size });
  }

  // A reloads: the browser has the client cached and revalidates it.
  await pages.A.reload();
  await pages.A.waitForFunction(() => typeof socket !== "undefined" && socket.connected);
  out("reloaded", { name: "A" });
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
    if (code === 0) out("exit");
    process.exitCode = code;
  });
