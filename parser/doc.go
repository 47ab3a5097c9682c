// Package parser encodes and decodes Socket.IO protocol v5 packets, the
// layer that sits on top of Engine.IO messages.
//
// A packet travels as one Engine.IO text message,
//
//	<type>[<attachments>-][<namespace>,][<ack id>][<JSON payload>]
//
// followed, for BINARY_EVENT and BINARY_ACK, by one Engine.IO binary message
// per attachment. Inside the JSON payload each attachment is represented by a
// placeholder object {"_placeholder":true,"num":N}.
//
// The package keeps payloads as raw JSON (json.RawMessage) rather than
// decoding them eagerly: a server usually routes on the event name alone
// (see SplitArray) and decodes the remaining arguments straight into the
// handler's parameter types (see Unmarshal), so a generic intermediate
// representation would be wasted work. Reconstruct exists for callers that
// do want generic values.
//
// Everything here is pure computation: no I/O, no goroutines, no clocks.
// Decoder is the only stateful type, because attachments of a binary packet
// arrive as separate messages and must be collected per connection.
//
// Decoding follows socket.io-parser (the reference JavaScript implementation,
// v4.2.6) and is stricter where the reference is lax in ways that could
// mislead or crash the layers above; the differences are listed on
// Decoder.AddText.
package parser
