package interop_test

import (
	"bytes"
	"strings"
	"testing"

	socketio "github.com/switchboard-go/socketio"
	"github.com/switchboard-go/socketio/engineio"
)

// permessage-deflate with the official Node client, which offers it by
// default: what it sends compressed is inflated (on the poller, on plain
// TCP), and what the server sends of 1 KiB and more reaches it
// compressed, a broadcast as a frame compressed once and shared: each
// client reads a fraction of the message's size for it, and the full size
// for a broadcast with Compress(false). Over polling the same events go
// through (HTTP compression instead).
func TestNodeDeflate(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("compress me, ", 4000)
	bin := make([]byte, 30000)
	for i := range bin {
		bin[i] = byte(i % 7)
	}
	eachMode(t, func(t *testing.T, mode string) {
		url := startServer(t, &socketio.Options{Engine: engineio.Options{PerMessageDeflate: true}}, func(srv *socketio.Server) {
			srv.OnConnection(func(s *socketio.Socket) {
				s.On("echo", func(e *socketio.Event) {
					var msg string
					if err := e.Decode(0, &msg); err != nil {
						t.Error(err)
					}
					_ = e.Ack(msg)
				})
				s.On("shout", func(*socketio.Event) { _ = srv.Emit("big", big, bytes.Clone(bin)) })
				s.On("shout-plain", func(*socketio.Event) { _ = srv.Compress(false).Emit("plain", big) })
				s.On("shout-small", func(*socketio.Event) { _ = srv.Emit("small", "small") })
			})
		})
		out := runNode(t, "client_deflate.js", url, mode)
		out.expectExit(t)

		onWS := mode != modePolling
		ext, _ := out.one(t, "extensions")["value"].(string)
		if onWS != strings.HasPrefix(ext, "permessage-deflate") {
			t.Errorf("negotiated extensions %q on %s", ext, mode)
		}
		if e := out.one(t, "echo"); e["ok"] != true {
			t.Errorf("echo of %d bytes: %v", len(big), e)
		}
		for _, ev := range out.all("big") {
			if ev["ok"] != true || ev["bin"] != true {
				t.Errorf("broadcast: %v", ev)
			}
			// The string and the attachment, 82 KB uncompressed, are
			// highly repetitive: compressed they take a few hundred bytes.
			if read, _ := ev["read"].(float64); onWS && read > 4096 {
				t.Errorf("a client read %v bytes for the compressed broadcast of %d", read, len(big)+len(bin))
			}
		}
		for _, ev := range out.all("plain") {
			if ev["ok"] != true {
				t.Errorf("broadcast with Compress(false): %v", ev)
			}
			if read, _ := ev["read"].(float64); onWS && read < float64(len(big)) {
				t.Errorf("a client read %v bytes for the uncompressed broadcast of %d", read, len(big))
			}
		}
		for _, name := range []string{"big", "plain", "small"} {
			if n := len(out.all(name)); n != 3 {
				t.Errorf("%d clients got %q, want 3", n, name)
			}
		}
		wantEqual(t, "transport", out.one(t, "transport")["name"], any(wantTransport(mode)))
	})
}
