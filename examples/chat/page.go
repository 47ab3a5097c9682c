package main

// page loads the official client from the server's CDN-free copy is not
// available here, so it uses the jsDelivr build a browser can reach; for a
// closed network serve node_modules/socket.io-client/dist yourself.
const page = `<!doctype html>
<title>chat</title>
<ul id="messages"></ul>
<form id="form"><input id="input" autocomplete="off"><button>Send</button></form>
<script src="https://cdn.jsdelivr.net/npm/socket.io-client@4/dist/socket.io.min.js"></script>
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
