// Writes golden.json: packets encoded by the real socket.io-msgpack-parser
// (npm), as the reference server and client build them. Run from the
// repository's root after `npm ci` in interop/node:
//
//   NODE_PATH=interop/node/node_modules node msgpackparser/testdata/golden.js
//
// golden_test.go decodes each one and, for those whose keys are in the Go
// encoder's order (type, data, id, nsp), encodes the same packet and
// compares the bytes.
const fs = require("fs");
const path = require("path");
const { Encoder } = require("socket.io-msgpack-parser");

const enc = new Encoder();
const cases = {
  // Server: socket.emit builds {type, data}, adds id, then nsp.
  connect_auth: { type: 0, data: { token: "abc", n: 1 }, nsp: "/" },
  connect_noauth: { type: 0, nsp: "/chat" },
  connect_sid: { type: 0, data: { sid: "oSO0OpakMV_3jnilAAAA" }, nsp: "/" },
  event_string: { type: 2, data: ["hello", "world"], nsp: "/" },
  // (Not 1e300: notepack.io writes integral numbers past 2^64 as a wrong
  // uint64, where Go writes a float64; 1e19 fits.)
  event_numbers: { type: 2, data: ["nums", 0, 1, -1, 127, 128, 255, 256, 65535, 65536, -32, -33, -128, -129, -32768, -32769, 4294967295, 4294967296, -2147483649, 1.5, -0.25, 1e-7, 1e19], nsp: "/" },
  event_nested: { type: 2, data: ["obj", { a: [1, { b: null, c: true, d: false }], "é": "ü\n\"\\", long: "x".repeat(40), longer: "y".repeat(300) }], nsp: "/" },
  event_binary: { type: 2, data: ["bin", Buffer.from([1, 2, 3]), { nested: Buffer.from("abc"), list: [Buffer.alloc(300, 7)] }], nsp: "/" },
  event_ack: { type: 2, data: ["question", 42], id: 7, nsp: "/" },
  event_other_nsp: { type: 2, data: ["ev"], nsp: "/admin" },
  ack_go_order: { type: 3, data: ["answer", Buffer.from([9])], id: 12, nsp: "/" },
  // Server: socket.ack builds {id, type, data}, then nsp.
  ack_node_order: { id: 12, type: 3, data: ["answer"], nsp: "/" },
  connect_error: { type: 4, data: { message: "not authorized", data: { code: 401 } }, nsp: "/" },
  // Client: Invalid namespace is {type, nsp, data}.
  connect_error_invalid_nsp: { type: 4, nsp: "/nope", data: { message: "Invalid namespace" } },
  disconnect: { type: 1, nsp: "/chat" },
  // Client: socket.emit adds options before id and nsp.
  client_event: { type: 2, data: ["hi", 1], options: { compress: true }, id: 3, nsp: "/" },
  // notepack's extension values.
  event_undefined: { type: 2, data: ["u", undefined, { a: undefined, b: 1 }], nsp: "/" },
  event_date: { type: 2, data: ["d", new Date(Date.UTC(2024, 1, 29, 12, 34, 56, 789))], nsp: "/" },
  event_arraybuffer: { type: 2, data: ["ab", new Uint8Array([4, 5]).buffer], nsp: "/" },
};
const out = {};
for (const [name, pkt] of Object.entries(cases)) {
  const frames = enc.encode(pkt);
  if (frames.length !== 1) throw new Error(name + ": " + frames.length + " frames");
  out[name] = Buffer.from(frames[0]).toString("hex");
}
fs.writeFileSync(path.join(__dirname, "golden.json"), JSON.stringify(out, null, 1) + "\n");
