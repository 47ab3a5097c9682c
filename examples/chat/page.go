package main

// cdnClient is where the page loads the official client from when the
// server has no copy to serve (see the -client flag); on a closed network,
// `npm install socket.io-client` beside the server and it is served itself.
const cdnClient = "https://cdn.jsdelivr.net/npm/socket.io-client@4/dist/socket.io.min.js"

// page is the chat page; CLIENT_SRC becomes the client's address.
const page = `<!doctype html>
<title>chat</title>
<ul id="messages"></ul>
<form id="form"><input id="input" autocomplete="off"><button>Send</button></form>
<script src="CLIENT_SRC"></script>
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
