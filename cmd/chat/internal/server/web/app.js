// The chat's page. User text is only ever set with textContent: nothing a
// user typed becomes markup.
"use strict";

const $ = (id) => document.getElementById(id);
const FILE_MAX = 5 << 20;

const state = {
  me: null,
  csrf: "",
  socket: null,
  convs: new Map(), // key ("general", "@bob") -> conversation
  active: null, // key of the conversation shown
  otherRooms: [],
  // Where the page stands: the highest message id it received or was told
  // in "session"; null until the first connection (history is loaded then).
  offset: null,
  pending: new Map(), // clientId -> pending message
};

function conv(key) {
  let c = state.convs.get(key);
  if (!c) {
    c = {
      key,
      dm: key.startsWith("@"),
      name: key.startsWith("@") ? key.slice(1) : key,
      joined: false,
      msgs: new Map(), // id -> message
      notices: [],
      oldest: 0,
      more: true,
      loaded: false,
      loading: false,
      unread: 0,
      online: [],
      members: [], // who joined the room, online or not
      typing: new Map(), // user -> timer
    };
    state.convs.set(key, c);
  }
  return c;
}

function keyOf(m) {
  if (m.room) return m.room;
  return "@" + (m.from === state.me ? m.to : m.from);
}

// ---- HTTP: the auth API ----

async function api(method, path, body) {
  const headers = { "X-CSRF-Token": state.csrf };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(path, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = {};
  try { data = await res.json(); } catch (_) { /* an empty body */ }
  if (!res.ok) throw new Error(data.error || res.status + " " + res.statusText);
  return data;
}

async function start() {
  try {
    const s = await api("GET", "/api/session");
    state.csrf = s.csrfToken || "";
    if (s.user) return enter(s.user.name);
  } catch (e) {
    $("auth-error").textContent = "The server cannot be reached: " + e.message;
  }
  showAuth();
}

function showAuth(msg) {
  $("chat-view").hidden = true;
  $("auth-view").hidden = false;
  $("auth-error").textContent = msg || "";
  $("username").focus();
}

async function authSubmit(kind) {
  const username = $("username").value.trim();
  const password = $("password").value;
  $("auth-error").textContent = "";
  for (const b of [$("login-btn"), $("signup-btn")]) b.disabled = true;
  try {
    const r = await api("POST", kind === "signup" ? "/api/signup" : "/api/login", { username, password });
    state.csrf = r.csrfToken || state.csrf;
    $("password").value = "";
    enter(r.user.name);
  } catch (e) {
    $("auth-error").textContent = e.message;
  } finally {
    for (const b of [$("login-btn"), $("signup-btn")]) b.disabled = false;
  }
}

async function logout() {
  try { await api("POST", "/api/logout"); } catch (_) { /* logged out anyway */ }
  if (state.socket) state.socket.disconnect();
  state.socket = null;
  state.me = null;
  state.convs.clear();
  state.active = null;
  state.offset = null;
  $("messages").replaceChildren();
  showAuth();
}

// ---- Socket.IO ----

function enter(name) {
  state.me = name;
  $("me-name").textContent = name;
  $("auth-view").hidden = true;
  $("chat-view").hidden = false;
  const socket = io({
    // The session cookie authenticates; the offset tells the server what
    // this page has seen, for when the connection cannot be recovered.
    auth: (cb) => cb(state.offset === null ? {} : { lastId: state.offset }),
    ackTimeout: 10000,
    retries: 3,
  });
  state.socket = socket;

  socket.on("connect", () => {
    $("banner").hidden = true;
  });
  socket.on("disconnect", (reason) => {
    if (reason !== "io client disconnect") $("banner").hidden = false;
  });
  socket.io.on("reconnect_attempt", () => { $("banner").hidden = false; });
  socket.on("connect_error", (err) => {
    if (err.data && err.data.code === "unauthenticated") {
      socket.disconnect();
      state.socket = null;
      showAuth(err.message);
      return;
    }
    $("banner").hidden = false;
    // A refusal ends the client's retries; "unavailable" is worth another.
    if (err.data && err.data.code === "unavailable") setTimeout(() => { if (state.socket === socket) socket.connect(); }, 2000 + Math.random() * 3000);
  });

  socket.on("session", (s) => {
    state.offset = Math.max(state.offset || 0, s.offset || 0);
    for (const r of s.rooms) conv(r).joined = true;
    for (const [k, n] of Object.entries(s.unread || {})) conv(k).unread = n;
    refreshRooms();
    if (!state.active || !state.convs.has(state.active) || (!conv(state.active).dm && !conv(state.active).joined)) {
      const first = s.rooms.includes("general") ? "general" : s.rooms[0];
      if (first) open(first);
      else render();
    } else if (!conv(state.active).loaded) {
      open(state.active);
    }
    renderSidebar();
  });
  socket.on("message", (m) => receive(m));
  socket.on("notice", (n) => {
    const c = conv(n.room);
    c.notices.push(n);
    if (n.event === "joined" && !c.members.includes(n.user)) c.members = [...c.members, n.user].sort();
    if (n.event === "left") c.members = c.members.filter((u) => u !== n.user);
    if (state.active === n.room) renderMembers();
    if (state.active === n.room) renderMessages(true);
  });
  socket.on("presence", (p) => {
    const c = conv(p.room);
    c.online = p.online;
    // Whoever is online in a room is a member of it (one who joined at
    // sign-up, say, with no notice).
    c.members = [...new Set([...c.members, ...p.online])].sort();
    if (state.active === p.room) renderMembers();
    renderSidebar();
  });
  socket.on("typing", (t) => {
    const key = t.room || "@" + t.user;
    const c = conv(key);
    clearTimeout(c.typing.get(t.user));
    if (t.typing) c.typing.set(t.user, setTimeout(() => { c.typing.delete(t.user); renderTyping(); }, 4000));
    else c.typing.delete(t.user);
    renderTyping();
  });
  socket.on("room", () => refreshRooms());
  socket.on("resync", () => {
    // Too much was missed to catch up message by message: reload.
    for (const c of state.convs.values()) { c.msgs.clear(); c.loaded = false; c.more = true; c.oldest = 0; }
    if (state.active) open(state.active);
  });
}

function receive(m) {
  if (state.offset === null || m.id > state.offset) state.offset = m.id;
  const key = keyOf(m);
  const c = conv(key);
  if (c.msgs.has(m.id)) return; // already shown (history and live overlap)
  if (m.clientId && m.from === state.me) state.pending.delete(m.clientId);
  c.msgs.set(m.id, m);
  // A message ends its author's typing, whether or not the volatile
  // "stopped typing" arrived.
  if (c.typing.has(m.from)) { clearTimeout(c.typing.get(m.from)); c.typing.delete(m.from); renderTyping(); }
  if (c.oldest === 0 || m.id < c.oldest) c.oldest = m.id;
  if (state.active === key && document.visibilityState === "visible") {
    markRead(c);
  } else if (m.from !== state.me) {
    c.unread++;
  }
  if (c.dm && !c.joined) c.joined = true;
  if (state.active === key) renderMessages(true);
  renderSidebar();
}

function refreshRooms() {
  if (!state.socket) return;
  state.socket.emit("rooms", (err, r) => {
    if (err || !r || r.error) return;
    state.otherRooms = [];
    for (const room of r.rooms) {
      if (room.member) conv(room.name).joined = true;
      else state.otherRooms.push(room.name);
    }
    for (const [k, n] of Object.entries(r.unread || {})) if (state.active !== k) conv(k).unread = n;
    renderSidebar();
  });
}

function open(key) {
  const c = conv(key);
  state.active = key;
  $("sidebar").classList.remove("open");
  $("send-error").textContent = "";
  if (!c.loaded && !c.loading) {
    c.loading = true;
    const done = (err, r, list) => {
      c.loading = false;
      if (err || !r || r.error) { $("send-error").textContent = (r && r.error) || "could not load the history"; return; }
      c.loaded = true;
      for (const m of list) c.msgs.set(m.id, m);
      if (list.length) c.oldest = Math.min(c.oldest || Infinity, list[0].id);
      c.more = list.length >= 50;
      if (r.online) c.online = r.online;
      if (r.members) c.members = r.members;
      markRead(c);
      render();
    };
    if (c.dm) state.socket.emit("history", { with: c.name }, (err, r) => done(err, r, (r && r.messages) || []));
    else state.socket.emit("join", { room: key }, (err, r) => { if (r && !r.error) c.joined = true; done(err, r, (r && r.history) || []); });
  } else {
    markRead(c);
  }
  render();
}

function markRead(c) {
  let upTo = 0;
  for (const id of c.msgs.keys()) if (id > upTo) upTo = id;
  c.unread = 0;
  if (upTo && state.socket) state.socket.emit("read", c.dm ? { with: c.name, upTo } : { room: c.key, upTo }, () => {});
}

function loadOlder() {
  const c = state.active && conv(state.active);
  if (!c || !c.loaded || !c.more || c.loading || !c.oldest) return;
  c.loading = true;
  const q = c.dm ? { with: c.name, before: c.oldest } : { room: c.key, before: c.oldest };
  state.socket.emit("history", q, (err, r) => {
    c.loading = false;
    if (err || !r || r.error) return;
    const list = r.messages;
    for (const m of list) c.msgs.set(m.id, m);
    if (list.length) c.oldest = list[0].id;
    c.more = list.length >= 50;
    const box = $("messages");
    const before = box.scrollHeight - box.scrollTop;
    renderMessages(false);
    box.scrollTop = box.scrollHeight - before; // keep the reader's place
  });
}

// ---- sending ----

function newClientId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return Date.now().toString(36) + Math.random().toString(36).slice(2);
}

function send(text, file) {
  const c = conv(state.active);
  const p = {
    clientId: newClientId(),
    key: c.key,
    from: state.me,
    text,
    file,
    sent: Date.now(),
    state: "sending",
  };
  if (file && file.type.startsWith("image/")) p.preview = URL.createObjectURL(file.blob);
  state.pending.set(p.clientId, p);
  stopTyping(); // first: a volatile emit right after another may be dropped
  emitPending(p);
  renderMessages("force");
}

function emitPending(p) {
  const c = conv(p.key);
  const msg = { clientId: p.clientId };
  if (c.dm) msg.to = c.name; else msg.room = c.key;
  if (p.text) msg.text = p.text;
  if (p.file) msg.file = { name: p.file.name, data: p.file.data };
  p.state = "sending";
  state.socket.emit("message", msg, (err, r) => {
    if (err || !r || r.error) {
      p.state = "failed";
      p.error = (r && r.error) || "not delivered";
    } else {
      p.state = "sent";
      p.id = r.id;
      // The message comes back through "message"; until then show it here.
    }
    if (state.active === p.key) renderMessages(true);
  });
}

async function sendFile(f) {
  $("send-error").textContent = "";
  if (f.size > FILE_MAX) { $("send-error").textContent = "A file has at most 5 MiB."; return; }
  if (f.size === 0) { $("send-error").textContent = "The file is empty."; return; }
  const data = await f.arrayBuffer();
  send("", { name: f.name, type: f.type, data, blob: f });
}

let typingSent = 0;
let typingStop = null;
function typed() {
  const c = state.active && conv(state.active);
  if (!c || !state.socket) return;
  const target = c.dm ? { to: c.name } : { room: c.key };
  const now = Date.now();
  if (now - typingSent > 2000) {
    typingSent = now;
    state.socket.volatile.emit("typing", { ...target, typing: true });
  }
  clearTimeout(typingStop);
  typingStop = setTimeout(stopTyping, 3000);
}

function stopTyping() {
  clearTimeout(typingStop);
  const c = state.active && conv(state.active);
  if (!typingSent || !c || !state.socket) return;
  typingSent = 0;
  state.socket.volatile.emit("typing", c.dm ? { to: c.name, typing: false } : { room: c.key, typing: false });
}

// ---- rendering ----

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function time(ms) {
  const d = new Date(ms);
  const today = new Date();
  const t = d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  return d.toDateString() === today.toDateString() ? t : d.toLocaleDateString() + " " + t;
}

function render() {
  renderSidebar();
  renderMessages("force");
  renderMembers();
  renderTyping();
}

function renderSidebar() {
  const rooms = $("rooms");
  const dms = $("dms");
  rooms.replaceChildren();
  dms.replaceChildren();
  const keys = [...state.convs.keys()].sort();
  for (const k of keys) {
    const c = state.convs.get(k);
    if (!c.joined && !c.dm) continue;
    if (c.dm && c.msgs.size === 0 && state.active !== k && !c.unread) continue;
    const li = el("li");
    li.dataset.key = k;
    if (k === state.active) li.classList.add("active");
    if (c.dm) {
      const online = [...state.convs.values()].some((x) => x.online.includes(c.name));
      li.append(el("span", "dot" + (online ? " online" : "")));
    }
    li.append(el("span", "name", c.name));
    if (c.unread > 0 && k !== state.active) li.append(el("span", "badge", String(c.unread)));
    li.addEventListener("click", () => open(k));
    (c.dm ? dms : rooms).append(li);
  }
  const other = $("other-rooms");
  other.replaceChildren();
  for (const r of state.otherRooms) {
    if (conv(r).joined) continue;
    const li = el("li");
    li.append(el("span", "name", r));
    const b = el("button", "join", "Join");
    b.type = "button";
    li.append(b);
    li.addEventListener("click", () => { conv(r).joined = true; open(r); refreshRooms(); });
    other.append(li);
  }
  const c = state.active && conv(state.active);
  $("conv-title").textContent = c ? (c.dm ? "@ " : "# ") + c.name : "";
  $("leave-btn").hidden = !c || c.dm;
}

function messageItem(m, pending) {
  const li = el("li");
  if (m.from === state.me) li.classList.add("mine");
  if (m.id) li.dataset.id = m.id;
  const meta = el("div", "meta");
  meta.append(el("span", "from", m.from));
  const t = el("time", "", time(m.sent));
  t.dateTime = new Date(m.sent).toISOString();
  meta.append(t);
  if (pending) {
    const s = el("span", "state " + pending.state, pending.state === "failed" ? "failed: " + pending.error : pending.state === "sent" ? "✓ sent" : "sending…");
    meta.append(s);
    if (pending.state === "failed") {
      const b = el("button", "link", "retry");
      b.type = "button";
      b.addEventListener("click", () => emitPending(pending));
      meta.append(b);
    }
  } else if (m.from === state.me) {
    meta.append(el("span", "state sent", "✓"));
  }
  li.append(meta);
  if (m.text) li.append(el("div", "text", m.text));
  const f = m.file;
  if (f) {
    const src = pending ? pending.preview : f.url;
    if ((f.type || "").startsWith("image/") && src) {
      const a = el("a");
      a.href = f.url || src;
      a.target = "_blank";
      a.rel = "noopener";
      const img = el("img");
      img.src = src;
      img.alt = f.name;
      a.append(img);
      li.append(a);
    } else {
      const a = el("a", "file-link", "File: " + f.name + (f.size ? " (" + Math.ceil(f.size / 1024) + " KiB)" : ""));
      if (f.url) { a.href = f.url; a.download = f.name; }
      li.append(a);
    }
  }
  return li;
}

function renderMessages(stick) {
  const box = $("messages");
  const c = state.active && conv(state.active);
  if (!c) { box.replaceChildren(); return; }
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 60;
  const items = [];
  for (const m of c.msgs.values()) items.push({ at: m.sent, id: m.id, node: () => messageItem(m) });
  for (const n of c.notices) items.push({ at: n.at, id: Infinity, node: () => el("li", "notice", n.user + (n.event === "joined" ? " joined" : " left") + " #" + n.room + " · " + time(n.at)) });
  for (const p of state.pending.values()) {
    if (p.key !== c.key) continue;
    if (p.id && c.msgs.has(p.id)) { state.pending.delete(p.clientId); continue; }
    const m = { from: p.from, text: p.text, sent: p.sent, file: p.file && { name: p.file.name, type: p.file.type, size: p.file.data.byteLength } };
    items.push({ at: Infinity, id: p.sent, node: () => messageItem(m, p) });
  }
  // By the server's time, then by id (a message's offset); messages not
  // yet stored last, in the order they were written.
  items.sort((a, b) => (a.at - b.at) || (a.id - b.id));
  const nodes = [];
  if (c.loaded && c.more) nodes.push(el("li", "older", "Scroll up for older messages"));
  else if (c.loaded && c.msgs.size) nodes.push(el("li", "older", "The beginning of " + (c.dm ? "your conversation with " + c.name : "#" + c.name)));
  for (const it of items) nodes.push(it.node());
  box.replaceChildren(...nodes);
  if (stick === "force" || (stick && atBottom)) box.scrollTop = box.scrollHeight;
}

function renderMembers() {
  const ul = $("members");
  ul.replaceChildren();
  const c = state.active && conv(state.active);
  if (!c) return;
  // A room lists who is online first, then the members who are not; a
  // conversation, its two people.
  const names = c.dm ? [state.me, c.name]
    : [...c.online, ...c.members.filter((n) => !c.online.includes(n))];
  for (const n of names) {
    const li = el("li");
    const online = n === state.me || (c.dm ? [...state.convs.values()].some((x) => x.online.includes(n)) : c.online.includes(n));
    if (!online) li.classList.add("offline");
    li.append(el("span", "dot" + (online ? " online" : "")));
    li.append(el("span", "", n + (n === state.me ? " (you)" : "")));
    if (n === state.me) li.classList.add("me-item");
    else {
      li.title = "Message " + n;
      li.addEventListener("click", () => { conv("@" + n); open("@" + n); });
    }
    ul.append(li);
  }
}

function renderTyping() {
  const c = state.active && conv(state.active);
  const who = c ? [...c.typing.keys()] : [];
  $("typing").textContent = who.length === 0 ? "" : who.length === 1 ? who[0] + " is typing…" : who.join(", ") + " are typing…";
}

// ---- wiring ----

$("login-form").addEventListener("submit", (e) => { e.preventDefault(); authSubmit("login"); });
$("signup-btn").addEventListener("click", () => authSubmit("signup"));
$("logout-btn").addEventListener("click", logout);
$("menu-btn").addEventListener("click", () => $("sidebar").classList.toggle("open"));
$("composer").addEventListener("submit", (e) => {
  e.preventDefault();
  const input = $("composer-input");
  const text = input.value.trim();
  if (!text || !state.active) return;
  if ([...text].length > 2000) { $("send-error").textContent = "A message has at most 2000 characters."; return; }
  $("send-error").textContent = "";
  input.value = "";
  send(text);
});
$("composer-input").addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); $("composer").requestSubmit(); }
});
$("composer-input").addEventListener("input", typed);
$("file-input").addEventListener("change", (e) => {
  const f = e.target.files[0];
  e.target.value = "";
  if (f && state.active) sendFile(f);
});
$("messages").addEventListener("scroll", () => { if ($("messages").scrollTop < 40) loadOlder(); });
$("create-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const name = $("create-input").value.trim();
  $("create-error").textContent = "";
  if (!name) return;
  state.socket.emit("create", { room: name }, (err, r) => {
    if (err || !r || r.error) { $("create-error").textContent = (r && r.error) || "could not create the room"; return; }
    $("create-input").value = "";
    const c = conv(r.room);
    c.joined = true;
    c.loaded = true;
    c.more = false; // a new room
    for (const m of r.history) c.msgs.set(m.id, m);
    c.online = r.online;
    c.members = r.members || [];
    open(r.room);
  });
});
$("leave-btn").addEventListener("click", () => {
  const c = state.active && conv(state.active);
  if (!c || c.dm) return;
  state.socket.emit("leave", { room: c.key }, (err, r) => {
    if (err || !r || r.error) return;
    c.joined = false; c.loaded = false; c.msgs.clear(); c.notices = [];
    state.active = null;
    const next = [...state.convs.values()].find((x) => x.joined && !x.dm);
    if (next) open(next.key); else render();
    refreshRooms();
  });
});
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible" && state.active) { markRead(conv(state.active)); renderSidebar(); }
});

start();
