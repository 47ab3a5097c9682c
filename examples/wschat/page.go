package main

// page is the room's page: the browser's WebSocket API and nothing else.
// Its client id is the time it was opened, in milliseconds.
const page = `<!doctype html>
<meta charset="utf-8">
<title>WebSocket chat</title>
<link rel="icon" href="data:,">
<h1>WebSocket chat</h1>
<p>Your id: <span id="id"></span> <span id="status">connecting</span></p>
<form id="form"><input id="text" autocomplete="off"><button>Send</button></form>
<ul id="messages"></ul>
<script>
  const id = Date.now();
  document.getElementById('id').textContent = id;
  const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
  const ws = new WebSocket(scheme + location.host + '/ws/' + id);
  const status = document.getElementById('status');
  ws.onopen = () => { status.textContent = 'connected'; };
  ws.onclose = (e) => { status.textContent = 'closed (' + e.code + ')'; };
  ws.onmessage = (e) => {
    const li = document.createElement('li');
    li.textContent = e.data;
    document.getElementById('messages').appendChild(li);
  };
  const text = document.getElementById('text');
  document.getElementById('form').addEventListener('submit', (e) => {
    e.preventDefault();
    if (text.value && ws.readyState === WebSocket.OPEN) { ws.send(text.value); text.value = ''; }
  });
</script>`
