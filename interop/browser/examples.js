// Browser driver for the pages of the examples (../examples_test.go): tabs,
// each its own browser context, of headless Chromium driven by
// playwright-core (which never downloads a browser of its own).
//
// Usage: node examples.js <scenario> <url> <screenshot-dir> [chromium]
//   wschat      examples/wschat: each tab shows its client id (#id) and
//               connects to /ws/<id>; A, then B, then A send through
//               the form (#text); then A's tab closes.
//   simplechat  examples/simplechat: A sends through the form (#input),
//               then B.
//   ticker      examples/ticker: one tab follows AAPL until its price
//               changes, then stops following it ("ticker" line).
//   restemit    examples/restemit: one tab joins the room "sports", posts
//               to it through its form, then this script posts an event to
//               all ("post" line).
// Every message a tab shows (#messages li) is printed once the scenario has
// ended: {"ev": "messages", "name", "list"}. Also "ids" (wschat), "page"
// (socket transport, simplechat), "screenshot", and "pageerror", "console"
// (errors and warnings), "offsite" (requests to another origin). Ends with
// {"ev": "exit"} and code 0, or {"ev": "fail"} and 1, or {"ev": "watchdog"}
// and 2.
"use strict";

const fs = require("fs");
const path = require("path");
const { chromium } = require("playwright-core");

const STEP_MS = 10000; // bound of one wait in a page
const WATCHDOG_MS = 45000; // the Go side gives up at 60s

const [scenario, url, shotDir] = process.argv.slice(2, 5);
const executablePath = process.argv[5] || process.env.CHROMIUM || "/usr/bin/chromium";
if (!["wschat", "simplechat", "ticker", "restemit"].includes(scenario) || !url || !shotDir) {
  console.error("usage: node examples.js wschat|simplechat|ticker|restemit <url> <screenshot-dir> [chromium]");
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

async function openTab(name) {
  const origin = new URL(url).origin;
  const ctx = await browser.newContext({ viewport: { width: 480, height: 320 } });
  const page = await ctx.newPage();
  page.setDefaultTimeout(STEP_MS);
  page.on("pageerror", (e) => out("pageerror", { name, message: String(e && e.message) }));
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") out("console", { name, type: m.type(), text: m.text() });
  });
  page.on("request", (req) => {
    const u = req.url();
    if (!u.startsWith(origin + "/") && !u.startsWith(origin.replace(/^http/, "ws") + "/")) out("offsite", { name, url: u });
  });
  await page.goto(url);
  return page;
}

// waitMessage waits until page lists text.
async function waitMessage(page, text) {
  await page.locator("#messages li, #events li", { hasText: text }).first().waitFor();
}

async function messages(page) {
  return page.locator("#messages li, #events li").allTextContents();
}

async function shoot(name, page) {
  fs.mkdirSync(shotDir, { recursive: true });
  const file = path.join(shotDir, scenario + "-" + name + ".png");
  await page.screenshot({ path: file });
  out("screenshot", { name, path: file, bytes: fs.statSync(file).size });
}

async function wschat() {
  const a = await openTab("A");
  await a.waitForFunction(() => document.getElementById("status").textContent === "connected");
  const idA = await a.textContent("#id");
  // A client is in the room once it has had its own "You wrote" (the
  // server registers it just after the handshake): each speaks first.
  await a.fill("#text", "hi");
  await a.click("button");
  await waitMessage(a, "You wrote: hi");
  // B opens later, so its Date.now() differs.
  await new Promise((r) => setTimeout(r, 5));
  const b = await openTab("B");
  await b.waitForFunction(() => document.getElementById("status").textContent === "connected");
  const idB = await b.textContent("#id");
  out("ids", { A: idA, B: idB });
  if (idA === idB) throw new Error("both tabs have the id " + idA);

  await b.fill("#text", "hello from B");
  await b.click("button");
  await waitMessage(b, "You wrote: hello from B");
  await waitMessage(a, `Client #${idB} says: hello from B`);
  await a.fill("#text", "hello from A");
  await a.click("button");
  await waitMessage(a, "You wrote: hello from A");
  await waitMessage(b, `Client #${idA} says: hello from A`);
  await shoot("A", a);
  const listA = await messages(a);
  await a.context().close(); // A leaves
  await waitMessage(b, `Client #${idA} left the chat`);
  await shoot("B", b);
  out("messages", { name: "A", list: listA });
  out("messages", { name: "B", list: await messages(b) });
}

// upgraded waits, at most 10 s, for the page's connection to reach
// WebSocket: the upgrade follows the connection, later on a loaded
// machine. The transport is read and checked afterwards.
async function upgraded(page) {
  await page.waitForFunction(() => socket.io.engine.transport.name === "websocket", null, { timeout: 10000 }).catch(() => {});
}

async function simplechat() {
  const tabs = { A: await openTab("A"), B: await openTab("B") };
  for (const [name, page] of Object.entries(tabs)) {
    await page.waitForFunction(() => typeof socket !== "undefined" && socket.connected);
    await upgraded(page);
    out("page", { name, transport: await page.evaluate(() => socket.io.engine.transport.name) });
  }
  for (const [from, text] of [["A", "hello from A"], ["B", "hi from B"]]) {
    await tabs[from].fill("#input", text);
    await tabs[from].click("button");
    for (const page of Object.values(tabs)) await waitMessage(page, text);
  }
  for (const [name, page] of Object.entries(tabs)) {
    await shoot(name, page);
    out("messages", { name, list: await messages(page) });
  }
}

async function ticker() {
  const page = await openTab("A");
  await page.waitForFunction(() => typeof socket !== "undefined" && socket.connected);
  const row = page.locator("tr", { hasText: "AAPL" });
  await row.locator("a").click();
  const price = row.locator(".price");
  // A quote, then another: the row follows the price.
  await page.waitForFunction((el) => /^[0-9]+\.[0-9]{2}$/.test(el.textContent), await price.elementHandle());
  const first = await price.textContent();
  // The value that differed, taken in the same check: read afterwards, a
  // random walk ticking every 10 ms may be back to the first one.
  const moved = await page.waitForFunction(([el, first]) => el.textContent !== first && el.textContent, [await price.elementHandle(), first]);
  const later = await moved.jsonValue();
  await shoot("A", page);
  await row.locator("a").click(); // stop following
  await page.waitForFunction((el) => el.textContent === "-", await price.elementHandle());
  const others = await page.locator("tr .price").allTextContents();
  await upgraded(page);
  out("ticker", { first, later, others, transport: await page.evaluate(() => socket.io.engine.transport.name) });
}

async function restemit() {
  const page = await openTab("A");
  await page.waitForFunction(() => typeof socket !== "undefined" && socket.connected);
  await page.fill("#room", "sports");
  await page.click("#join button");
  await waitMessage(page, 'join: "sports"');
  // The page posts to its own server's /send, to its room...
  await page.fill("#data", "from the page");
  await page.fill("#to", "sports");
  await page.click("#send button");
  await waitMessage(page, 'message: ["from the page"]');
  await waitMessage(page, "POST /send: 200");
  // ... and a program elsewhere (as curl would) to everyone.
  const res = await fetch(new URL("/send", url), { method: "POST", body: JSON.stringify({ event: "news", data: { n: 1 } }) });
  out("post", { status: res.status, answer: await res.json() });
  await waitMessage(page, 'news: [{"n":1}]');
  await shoot("A", page);
  out("messages", { name: "A", list: await messages(page) });
}

async function main() {
  browser = await chromium.launch({
    executablePath,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  out("browser", { version: browser.version() });
  await { wschat, simplechat, ticker, restemit }[scenario]();
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
