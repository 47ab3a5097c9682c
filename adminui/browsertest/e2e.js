// Browser end-to-end test of the official Socket.IO Admin UI against a Go
// server instrumented by adminui, run by browser_test.go: headless
// Chromium (Debian's, driven by playwright-core, which never downloads a
// browser) loads the UI the Go server serves, logs in through its
// connection form, checks that it lists the test's sockets and rooms,
// and disconnects one socket from the UI.
//
// Usage: node e2e.js '<json config>' (see browser_test.go).
//
// Prints one line per step and exits 0 when every step passed, 1 on the
// first failure (with a screenshot), 2 when the watchdog fires.
"use strict";

const fs = require("fs");
const path = require("path");
const { chromium } = require("playwright-core");

const cfg = JSON.parse(process.argv[2] || "{}");
if (!cfg.page || !cfg.shots) {
  console.error("usage: node e2e.js '<json config>'");
  process.exit(64);
}
const STEP = 15000;
setTimeout(() => { console.log("watchdog: the test took over 150 s"); process.exit(2); }, 150000).unref();

const t0 = Date.now();
const step = (s) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)}s] ${s}`);

// The machine may have no internet, and the page must not need it: the
// Go server serves the icon font and Roboto (adminui.UIHandlerWithFonts,
// from the @mdi/font and @fontsource/roboto npm packages) in place of
// cdn.jsdelivr.net and fonts.googleapis.com. Any request that leaves the
// test's server is refused, and written down for the final check.
const external = [];
async function offline(context) {
  await context.route((url) => !url.href.startsWith(cfg.url + "/"), (route) => {
    external.push(route.request().url());
    return route.abort();
  });
}

// The admin UI's Vuex store (Vue 2 keeps the root component on its element).
const store = (page, expr) => page.evaluate(`(() => { const s = document.querySelector("[data-app]").__vue__.$store.state.main; return ${expr}; })()`);

async function main() {
  const browser = await chromium.launch({
    executablePath: cfg.chromium || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  let page;
  const shot = (name, fullPage = true) => page.screenshot({ path: path.join(cfg.shots, `${name}.png`), fullPage });
  try {
    const context = await browser.newContext({ viewport: { width: 1400, height: 860 } });
    await offline(context);
    page = await context.newPage();
    page.setDefaultTimeout(STEP);
    page.on("pageerror", (e) => console.log(`page error: ${e.message}`));
    page.on("console", (m) => { if (m.type() === "error") console.log(`console: ${m.text()}`); });

    await page.goto(cfg.page);
    await page.getByLabel("Server URL").waitFor();
    await shot("01-connection-form");
    await page.getByLabel("Server URL").fill(cfg.url);
    await page.getByLabel("Username").fill(cfg.username);
    await page.getByLabel("Password").fill("not-the-password");
    await page.getByRole("button", { name: "Connect" }).click();
    await page.getByText("Invalid credentials").waitFor();
    await shot("02-invalid-credentials");
    step("a wrong password is refused: the form says 'Invalid credentials'");
    await page.getByLabel("Password").fill(cfg.password);
    await page.getByRole("button", { name: "Connect" }).click();
    await page.getByLabel("Server URL").waitFor({ state: "hidden" });
    step("logged in through the connection form");
    const byName = Object.fromEntries(cfg.members.map((m) => [m.name, m]));
    const victim = cfg.members.find((m) => m.id === cfg.victim);
    const label = { websocket: "WebSocket", polling: "HTTP long-polling" };

    // Dashboard: the namespaces with their sockets, the clients by transport.
    const nsRow = (name) => page.locator("tr", { has: page.locator("td", { hasText: new RegExp(`^${name}$`) }) });
    for (const [name, count] of Object.entries(cfg.namespaces)) {
      await nsRow(name).filter({ hasText: String(count) }).waitFor();
    }
    await page.getByText("HTTP long-polling").first().waitFor();
    // The icons and Roboto come from the Go server.
    await page.evaluate(() => document.fonts.ready);
    for (const family of ["Material Design Icons", "Roboto"]) {
      const loaded = await page.evaluate((f) => [...document.fonts].some((ff) => ff.family.replace(/"/g, "") === f && ff.status === "loaded"), family);
      if (!loaded) throw new Error(`font ${family} not loaded`);
    }
    step("the icon font and Roboto are loaded from the Go server");
    // The charts: connections, and bytes both ways (server_stats'
    // aggregated events, which the dashboard's histograms draw).
    const total = (type) => `s.aggregatedEvents.filter((e) => e.type === "${type}").reduce((n, e) => n + e.count, 0)`;
    await page.waitForFunction(`(() => { const s = document.querySelector("[data-app]").__vue__.$store.state.main;
      return ${total("rawConnection")} >= 2 && ${total("bytesIn")} > 0 && ${total("bytesOut")} > 0 && ${total("packetsIn")} > 0 && ${total("packetsOut")} > 0; })()`);
    const traffic = await store(page, `({ bytesIn: ${total("bytesIn")}, bytesOut: ${total("bytesOut")}, packetsIn: ${total("packetsIn")}, packetsOut: ${total("packetsOut")} })`);
    await page.getByText("Bytes received and sent").waitFor();
    await shot("03-dashboard");
    step(`the dashboard lists the namespaces with their socket counts, and charts the traffic: ${JSON.stringify(traffic)}`);

    // Sockets, namespace by namespace.
    await page.getByRole("link", { name: "Sockets" }).click();
    // Opens a page from the menu, and waits for the previous page to be
    // gone (the two overlap during the transition).
    const open = async (name) => {
      await page.getByRole("navigation").getByRole("link", { name }).click();
      await page.waitForFunction((n) => location.hash.startsWith(`#/${n}`), name.toLowerCase());
      await page.waitForTimeout(1000);
    };
    const selectNsp = async (name) => {
      await page.locator(".v-select", { hasText: "Select namespace" }).click();
      await page.locator(".menuable__content__active .v-list-item", { hasText: new RegExp(`^${name}$`) }).click();
      await page.locator(".menuable__content__active").waitFor({ state: "hidden" });
    };
    await open("Sockets");
    for (const nsp of [...new Set(cfg.members.map((m) => m.nsp))]) {
      await selectNsp(nsp);
      for (const m of cfg.members.filter((m) => m.nsp === nsp)) {
        await page.locator("tr", { hasText: m.id }).filter({ hasText: label[m.transport] }).waitFor();
      }
      const rows = await page.locator("tbody tr").count();
      if (rows !== cfg.members.filter((m) => m.nsp === nsp).length) throw new Error(`${rows} sockets listed in ${nsp}`);
      await shot(`04-sockets${nsp === "/" ? "" : nsp.replace(/\//g, "-")}`);
    }
    step("the sockets page lists every client's socket with its transport, in its namespace");

    // Rooms.
    await open("Rooms");
    for (const nsp of [...new Set(cfg.members.map((m) => m.nsp))]) {
      await selectNsp(nsp);
      const count = {};
      for (const m of cfg.members.filter((m) => m.nsp === nsp)) for (const r of m.rooms) count[r] = (count[r] || 0) + 1;
      for (const [room, n] of Object.entries(count)) {
        await page.locator("tr", { has: page.locator("td", { hasText: new RegExp(`^${room}$`) }) }).filter({ hasText: new RegExp(`\\b${n}\\b`) }).waitFor();
      }
      if (nsp === "/") await shot("05-rooms");
    }
    step("the rooms page lists every room with its number of sockets");

    // The victim's details, then its disconnection from the UI.
    await open("Sockets");
    await selectNsp(victim.nsp);
    await page.locator("tr", { hasText: victim.id }).locator("td").first().click();
    await page.getByText(victim.id).first().waitFor();
    await page.waitForTimeout(500);
    for (const r of victim.rooms) await page.locator("td", { hasText: new RegExp(`^${r}$`) }).waitFor();
    await page.getByText(`"name": "${victim.name}"`).waitFor();
    await shot("06-socket-details");
    step(`${victim.name}'s details show its rooms, data and handshake`);

    // The Socket section's status row has the button that disconnects the
    // socket (the Client section's closes the whole connection).
    const socketStatus = page.locator("tr", { hasText: "Status" }).nth(1);
    await socketStatus.locator("button").click();
    await socketStatus.getByText("DISCONNECTED").waitFor();
    await shot("07-socket-disconnected");
    step(`disconnected ${victim.name}'s socket from the UI: its status turned to disconnected`);

    await open("Sockets");
    await selectNsp(victim.nsp);
    for (const m of cfg.members.filter((m) => m.nsp === victim.nsp && m !== victim)) {
      await page.locator("tr", { hasText: m.id }).waitFor();
    }
    await page.locator("tr", { hasText: victim.id }).waitFor({ state: "detached" });
    await shot("08-sockets-after");
    step(`the sockets page no longer lists ${victim.name}`);

    await open("Events");
    await page.locator("tr", { hasText: "server namespace disconnect" }).filter({ hasText: victim.id }).waitFor();
    await shot("09-events");
    await selectNsp("/chat");
    await page.locator("tr", { hasText: "chat message" }).filter({ hasText: byName.carol.id }).first().waitFor();
    await page.waitForTimeout(1500);
    await shot("10-events-chat", false);
    step("the events page lists the clients' events");

    await open("Servers");
    await page.locator("tr", { hasText: cfg.serverId }).filter({ hasText: "HEALTHY" }).waitFor();
    await shot("11-servers");
    step(`the servers page lists ${cfg.serverId}, healthy`);

    if (external.length) throw new Error(`requests left the test's server: ${external.join(" ")}`);
    step("no request left the test's server");
  } catch (e) {
    console.log(`FAIL: ${e.stack || e}`);
    if (page) await shot("failure").catch(() => {});
    await browser.close();
    process.exit(1);
  }
  await browser.close();
}

main();
