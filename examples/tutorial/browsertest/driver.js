// Browser driver for the tutorial steps' browser tests
// (../internal/tutorialtest/browser.go): headless Debian Chromium, driven
// by playwright-core (which never downloads a browser of its own), opening
// the steps' pages, which load the official client from the Go server.
//
// Usage: node driver.js [chromium]   (default /usr/bin/chromium)
//
// It reads one command per line on stdin, a JSON object, and answers each
// with one JSON line on stdout: the command's result fields and "ok": true,
// or "error": a message. Pages are named by the test ("A", "B"); each has
// a browser context of its own, so that it can go offline alone.
//
//   open {page, url}          new page loading url
//   connected {page}          wait until the page's socket is connected → {id}
//   disconnected {page}       wait until it is not
//   send {page, text}         type text into the form and submit it
//   waitItems {page, items}   wait until the list of messages is exactly items
//   items {page}              → {items}
//   offline {page, offline}   take the page's network away or give it back
//   reload {page}             reload and wait for the load event
//   screenshot {page, path}   save a PNG
//   eval {page, expr}         → {value}: the expression's value in the page
//   quit                      close the browser → {problems}: uncaught page
//                             errors and requests to other sites
"use strict";

const readline = require("readline");
const { chromium } = require("playwright-core");

const WAIT_MS = 15000; // bound of one wait in a page; the Go side waits longer
const chromiumPath = process.argv[2] || "/usr/bin/chromium";

const pages = {};
const problems = [];
let browser = null;

function answer(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

function items(page) {
  return page.$$eval("#messages > li", (lis) => lis.map((li) => li.textContent));
}

const commands = {
  async open({ page: name, url }) {
    if (!browser) {
      browser = await chromium.launch({
        executablePath: chromiumPath,
        headless: true,
        args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
          "--disable-background-networking", "--disable-component-update", "--disable-sync"],
      });
    }
    const origin = new URL(url).origin;
    const context = await browser.newContext({ viewport: { width: 480, height: 360 } });
    const page = await context.newPage();
    page.setDefaultTimeout(WAIT_MS);
    page.on("pageerror", (e) => problems.push(`${name}: uncaught ${e && e.message}`));
    // The page must need nothing but the Go server.
    await context.route("**/*", (route) => {
      const u = route.request().url();
      if (u.startsWith(origin + "/")) return route.continue();
      problems.push(`${name}: request to another site: ${u}`);
      return route.abort();
    });
    pages[name] = { context, page };
    await page.goto(url);
    return {};
  },
  async connected({ page: name }) {
    const { page } = pages[name];
    await page.waitForFunction(() => typeof socket !== "undefined" && socket.connected);
    return { id: await page.evaluate(() => socket.id) };
  },
  async disconnected({ page: name }) {
    await pages[name].page.waitForFunction(() => !socket.connected);
    return {};
  },
  async send({ page: name, text }) {
    const { page } = pages[name];
    await page.fill("#input", text);
    await page.click("#form > button");
    // The page empties the box once the message is handed to the client.
    await page.waitForFunction(() => document.getElementById("input").value === "");
    return {};
  },
  async waitItems({ page: name, items: want }) {
    const { page } = pages[name];
    try {
      await page.waitForFunction(
        (want) => {
          const got = Array.from(document.querySelectorAll("#messages > li"), (li) => li.textContent);
          return JSON.stringify(got) === JSON.stringify(want);
        },
        want,
      );
    } catch (e) {
      throw new Error(`list ${JSON.stringify(await items(page))}, want ${JSON.stringify(want)}: ${e.message.split("\n")[0]}`);
    }
    return {};
  },
  async items({ page: name }) {
    return { items: await items(pages[name].page) };
  },
  async offline({ page: name, offline }) {
    await pages[name].context.setOffline(offline);
    return {};
  },
  async reload({ page: name }) {
    await pages[name].page.reload();
    return {};
  },
  async screenshot({ page: name, path }) {
    await pages[name].page.screenshot({ path });
    return {};
  },
  async eval({ page: name, expr }) {
    return { value: await pages[name].page.evaluate(expr) };
  },
  async quit() {
    if (browser) await browser.close();
    browser = null;
    return { problems };
  },
};

async function main() {
  const rl = readline.createInterface({ input: process.stdin });
  for await (const line of rl) {
    const cmd = JSON.parse(line);
    const fn = commands[cmd.cmd];
    try {
      if (!fn) throw new Error(`unknown command ${cmd.cmd}`);
      if (cmd.page !== undefined && cmd.cmd !== "open" && !pages[cmd.page]) throw new Error(`no page ${cmd.page}`);
      answer(Object.assign({ ok: true }, await fn(cmd)));
    } catch (e) {
      answer({ error: String((e && e.message) || e) });
    }
    if (cmd.cmd === "quit") break;
  }
  // stdin closed or quit: the Go test is done or gone.
  if (browser) await browser.close();
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
