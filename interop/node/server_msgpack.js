// server_main.js with socket.io-msgpack-parser (the Go client's interop
// with it: node_msgpack_test.go). Usage: node server_msgpack.js PORT
"use strict";
process.env.SWITCHBOARD_NODE_PARSER = "msgpack";
require("./server_main.js");
