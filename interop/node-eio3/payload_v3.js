// The Engine.IO v3 payload codec of socket.io-client@2 (engine.io-parser
// 2.x, the one the v2 client uses), for ../eio3_node_test.go to check the
// Go server's v3 payloads against.
//
// Usage:
//   node payload_v3.js decode <hex>   decodes a payload (binary, as the
//                                     client gets one in an
//                                     application/octet-stream response)
//                                     and prints each packet
//   node payload_v3.js encode <binary|text> <json>
//                                     encodes the packets of <json> ([type,
//                                     data] pairs, data {"$bin": hex} for a
//                                     binary message) and prints the payload
//                                     as hex
"use strict";

const path = require("path");
const parser = require(path.join(__dirname, "node_modules", "engine.io-parser"));

function out(ev, fields) {
  process.stdout.write(JSON.stringify(Object.assign({ ev }, fields || {})) + "\n");
}

const [cmd, a, b] = process.argv.slice(2);
if (cmd === "decode") {
  parser.decodePayload(Buffer.from(a, "hex"), (packet) => {
    const data = Buffer.isBuffer(packet.data) ? { $bin: packet.data.toString("hex") } : packet.data;
    out("packet", { type: packet.type, data });
  });
} else if (cmd === "encode") {
  const packets = JSON.parse(b).map(([type, data]) => ({
    type,
    data: data && data.$bin !== undefined ? Buffer.from(data.$bin, "hex") : data,
  }));
  parser.encodePayload(packets, a === "binary", (payload) => {
    out("payload", { hex: Buffer.from(payload).toString("hex") });
  });
} else {
  console.error("usage: node payload_v3.js decode <hex> | encode <binary|text> <json>");
  process.exit(64);
}
out("exit", { code: 0 });
