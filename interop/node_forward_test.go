package interop_test

import (
	"testing"

	socketio "github.com/switchboard-go/socketio"
)

// The official client receives forwarded arguments (RawArg) as the sender
// wrote them, attachments renumbered behind a new one, and the
// {"error": ...} acknowledgement of a typed handler.
func TestNodeClientForwardAndTyped(t *testing.T) {
	t.Parallel()
	eachMode(t, func(t *testing.T, mode string) {
		url := startServer(t, nil, func(srv *socketio.Server) {
			srv.OnConnection(func(s *socketio.Socket) {
				s.On("join", socketio.TypedAck1(func(e *socketio.Event, room string) (string, error) {
					s.Join(room)
					return "joined " + room, nil
				}))
				s.On("relay", socketio.Typed3(func(e *socketio.Event, room string, msg, tail socketio.RawArg) {
					_ = s.To(room).Emit("relayed", []byte{9}, msg, tail)
				}))
				s.On("add", socketio.TypedAck2(func(e *socketio.Event, a, b int) (int, error) { return a + b, nil }))
			})
		})
		out := runNode(t, "client_forward.js", url, mode)
		out.expectExit(t)
		wantJSON(t, "join", out.one(t, "join")["res"], `"joined room1"`)
		relayed := out.one(t, "relayed")
		wantJSON(t, "relayed", relayed["args"], `[
			{"$bin":"09","$type":"Buffer"},
			{"z":1,"a":{"$bin":"706963","$type":"Buffer"},"list":[{"$bin":"00ff","$type":"Buffer"},"s"]},
			{"$bin":"7461696c","$type":"Buffer"}]`)
		wantJSON(t, "key order", relayed["keys"], `["z","a","list"]`)
		wantJSON(t, "add", out.one(t, "add-ok")["res"], `5`)
		wantJSON(t, "add error", out.one(t, "add-bad")["res"], `{"error":"invalid argument 1 of \"add\": expected integer, got string"}`)
	})
}
