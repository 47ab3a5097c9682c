package main

// page is the chat page. It needs nothing but this server: the client
// comes from /socket.io/socket.io.js, which the Socket.IO server serves.
const page = `<!doctype html>
<meta charset="utf-8">
<title>chat</title>
<link rel="icon" href="data:,">
<ul id="messages"></ul>
<form id="form"><input id="input" autocomplete="off"><button>Send</button></form>
<script src="/socket.io/socket.io.js"></script>
<script>
  const socket = io();
  const form = document.getElementById('form'), input = document.getElementById('input');
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (input.value) { socket.emit('chat message', input.value); input.value = ''; }
  });
  socket.on('chat message', (msg) => {
    const li = document.createElement('li'); li.textContent = msg;
    document.getElementById('messages').appendChild(li);
    window.scrollTo(0, document.body.scrollHeight);
  });
</script>`
