// Browser end-to-end test of the chat's page, run by browser_test.go:
// two users in two browser contexts of headless Chromium (Debian's,
// driven by playwright-core, which never downloads a browser).
//
// Usage: node e2e.js <chat-url> <screenshot-dir> [chromium]
//
// Prints one line per step and exits 0 when every step passed, 1 on the
// first failure (with a screenshot of both pages), 2 when the watchdog
// fires.
"use strict";

const path = require("path");
const { chromium } = require("playwright-core");

const [url, shots, exe = "/usr/bin/chromium"] = process.argv.slice(2);
if (!url || !shots) {
  console.error("usage: node e2e.js <chat-url> <screenshot-dir> [chromium]");
  process.exit(64);
}
const STEP = 15000;
setTimeout(() => { console.log("watchdog: the test took over 150 s"); process.exit(2); }, 150000).unref();

const t0 = Date.now();
const step = (s) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)}s] ${s}`);

// A 160×96 PNG: a red-to-blue gradient, made here so that the test needs no file.
function png() {
  const zlib = require("zlib");
  const w = 160, h = 96;
  const raw = Buffer.alloc((w * 3 + 1) * h);
  for (let y = 0; y < h; y++) {
    raw[y * (w * 3 + 1)] = 0;
    for (let x = 0; x < w; x++) {
      const o = y * (w * 3 + 1) + 1 + x * 3;
      raw[o] = 230 - x; raw[o + 1] = 60 + y; raw[o + 2] = 60 + x;
    }
  }
  const crcTable = [];
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    crcTable[n] = c >>> 0;
  }
  const crc = (buf) => { let c = 0xffffffff; for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0; };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const c = Buffer.alloc(4); c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(h, 4); ihdr[8] = 8; ihdr[9] = 2;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk("IHDR", ihdr), chunk("IDAT", zlib.deflateSync(raw)), chunk("IEND", Buffer.alloc(0))]);
}

async function main() {
  const browser = await chromium.launch({
    executablePath: exe,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const pages = {};
  const shot = async (name) => {
    for (const [who, p] of Object.entries(pages)) await p.screenshot({ path: path.join(shots, `${name}-${who}.png`) });
  };
  try {
    const ctxA = await browser.newContext({ viewport: { width: 1200, height: 760 } });
    const ctxB = await browser.newContext({ viewport: { width: 1200, height: 760 } });
    const a = (pages.alice = await ctxA.newPage());
    const b = (pages.bob = await ctxB.newPage());
    for (const [who, p] of Object.entries(pages)) {
      p.setDefaultTimeout(STEP);
      p.on("pageerror", (e) => console.log(`${who}: page error: ${e.message}`));
      p.on("console", (m) => { if (m.type() === "error") console.log(`${who}: console: ${m.text()}`); });
    }

    const signup = async (p, name) => {
      await p.goto(url);
      await p.waitForSelector("#auth-view:not([hidden])");
      await p.fill("#username", name);
      await p.fill("#password", "password-" + name);
      await p.click("#signup-btn");
      await p.waitForSelector("#chat-view:not([hidden])");
      await p.waitForFunction(() => document.getElementById("conv-title").textContent === "# general");
    };
    await a.goto(url);
    await a.waitForSelector("#auth-view:not([hidden])");
    await a.screenshot({ path: path.join(shots, "01-login.png") });
    await signup(a, "alice");
    await signup(b, "bob");
    step("alice and bob signed up and landed in #general");

    // Presence in general.
    await a.waitForFunction(() => document.getElementById("members").textContent.includes("bob"));
    await b.waitForFunction(() => document.getElementById("members").textContent.includes("alice"));
    step("each sees the other online");

    // Alice creates a room, bob joins it from "Other rooms".
    await a.fill("#create-input", "lobby");
    await a.press("#create-input", "Enter");
    await a.waitForFunction(() => document.getElementById("conv-title").textContent === "# lobby");
    await b.waitForSelector("#other-rooms li:has-text('lobby')");
    await b.click("#other-rooms li:has-text('lobby')");
    await b.waitForFunction(() => document.getElementById("conv-title").textContent === "# lobby");
    await a.waitForFunction(() => document.getElementById("members").textContent.includes("bob"));
    await a.waitForSelector("#messages li.notice:has-text('bob joined')");
    step("bob joined #lobby; alice sees him there");

    // Typing.
    await a.type("#composer-input", "hello bob", { delay: 20 });
    await b.waitForFunction(() => document.getElementById("typing").textContent.includes("alice is typing"));
    step("bob sees alice typing");
    await a.press("#composer-input", "Enter");
    await b.waitForSelector("#messages li:has-text('hello bob')");
    await a.waitForSelector("#messages li.mine:has-text('hello bob') .state.sent");
    await b.fill("#composer-input", "hi alice <b>not bold</b>");
    await b.press("#composer-input", "Enter");
    await a.waitForSelector("#messages li:has-text('hi alice')");
    const bold = await a.$$eval("#messages b", (els) => els.length);
    if (bold !== 0) throw new Error("user text became markup");
    step("messages both ways, sent state shown, text not turned into markup");

    // An image.
    await a.setInputFiles("#file-input", { name: "red.png", mimeType: "image/png", buffer: png() });
    await b.waitForSelector("#messages li img[alt='red.png']");
    await b.waitForFunction(() => { const i = document.querySelector("#messages li img[alt='red.png']"); return i && i.complete && i.naturalWidth === 160; });
    step("bob sees alice's image");
    await shot("02-chat");

    // Unread count: bob looks at general while alice writes in lobby.
    await b.click("#rooms li[data-key='general']");
    await a.fill("#composer-input", "unread one");
    await a.press("#composer-input", "Enter");
    await b.waitForFunction(() => { const l = document.querySelector("#rooms li[data-key='lobby'] .badge"); return l && l.textContent === "1"; });
    step("bob sees 1 unread in #lobby");
    await b.click("#rooms li[data-key='lobby']");
    await b.waitForSelector("#messages li:has-text('unread one')");

    // Bob goes offline for a few seconds and misses nothing.
    await ctxB.setOffline(true);
    await b.waitForSelector("#banner:not([hidden])");
    for (const t of ["while away 1", "while away 2", "while away 3"]) {
      await a.fill("#composer-input", t);
      await a.press("#composer-input", "Enter");
      await a.waitForSelector(`#messages li.mine:has-text('${t}') .state.sent`);
    }
    await shot("03-offline");
    await new Promise((r) => setTimeout(r, 3000));
    await ctxB.setOffline(false);
    await b.waitForSelector("#banner", { state: "hidden", timeout: 30000 });
    for (const t of ["while away 1", "while away 2", "while away 3"]) await b.waitForSelector(`#messages li:has-text('${t}')`);
    const dup = await b.$$eval("#messages li[data-id]", (els) => els.length - new Set(els.map((e) => e.dataset.id)).size);
    if (dup !== 0) throw new Error(dup + " messages shown twice");
    step("bob was offline 3 s and got the 3 messages sent meanwhile, once each");

    // Bob reloads: still logged in, the history is there.
    await b.reload();
    await b.waitForSelector("#chat-view:not([hidden])");
    await b.click("#rooms li[data-key='lobby']");
    for (const t of ["hello bob", "hi alice", "while away 3"]) await b.waitForSelector(`#messages li:has-text('${t}')`);
    await b.waitForSelector("#messages li img[alt='red.png']");
    step("after a reload bob sees the history");
    await shot("04-reloaded");

    // A wrong password shows an error.
    const ctxC = await browser.newContext({ viewport: { width: 1200, height: 760 } });
    const c = (pages.carol = await ctxC.newPage());
    c.setDefaultTimeout(STEP);
    await c.goto(url);
    await c.waitForSelector("#auth-view:not([hidden])");
    await c.fill("#username", "alice");
    await c.fill("#password", "not-her-password");
    await c.click("#login-btn");
    await c.waitForFunction(() => document.getElementById("auth-error").textContent.length > 0);
    if (!(await c.isHidden("#chat-view"))) throw new Error("logged in with a wrong password");
    step("a wrong password shows: " + (await c.textContent("#auth-error")));
    await c.screenshot({ path: path.join(shots, "05-wrong-password.png") });

    // Carol signs up, then leaves: #general lists her still, as offline.
    await signup(c, "carol");
    await a.click("#rooms li[data-key='general']");
    await a.waitForSelector("#members li:not(.offline):has-text('carol')");
    await ctxC.close();
    delete pages.carol;
    await a.waitForSelector("#members li.offline:has-text('carol')");
    await a.screenshot({ path: path.join(shots, "05-members-alice.png") });
    step("#general lists carol once she left, as offline");

    // A narrow screen.
    await b.setViewportSize({ width: 390, height: 760 });
    await b.waitForSelector("#menu-btn", { state: "visible" });
    await b.waitForTimeout(400); // the sidebar's slide-out transition
    await b.screenshot({ path: path.join(shots, "06-phone-bob.png") });
    step("done");
  } catch (e) {
    console.log("FAIL: " + (e && e.stack ? e.stack : e));
    try { await shot("fail"); } catch (_) { /* the page is gone */ }
    await browser.close();
    process.exit(1);
  }
  await browser.close();
}

main();
