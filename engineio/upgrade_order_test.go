package engineio

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
)

// A client that sends "2probe" and "5" on the probe WebSocket back to back
// and then polls has upgraded before that poll: the poll gets 400, as from
// the reference server, which sees the two connections' input in arrival
// order. The poll must never overtake the upgrade packet and be answered
// with a noop (or anything else with 200). A POST after the upgrade gets
// 400 as well.
func TestPollAfterUpgradePacketIsRefused(t *testing.T) {
	t.Run("plain", func(t *testing.T) { testPollAfterUpgradePacket(t, false) })
	// Compressed probe frames, inflated by the poller's parser (by the
	// probe's reader goroutine under -nopoller).
	t.Run("deflate", func(t *testing.T) { testPollAfterUpgradePacket(t, true) })
}

func testPollAfterUpgradePacket(t *testing.T, deflate bool) {
	// Many sessions: an echo handler that records nothing.
	eng := NewServer(testOptions(&Options{PerMessageDeflate: deflate}), func(*Conn) Handler { return echoHandler{} })
	ts := &testServer{Server: httptest.NewServer(eng), eng: eng}
	t.Cleanup(func() {
		_ = eng.Close()
		ts.Close()
	})
	const trials = 100
	for i := range trials {
		op := handshake(t, ts)
		d := websocket.Dialer{EnableCompression: deflate}
		ws, _, err := d.Dial("ws"+strings.TrimPrefix(ts.url("transport=websocket&sid="+op.SID), "http"), nil)
		if err != nil {
			t.Fatal(err)
		}
		ws.EnableWriteCompression(deflate)
		if err := ws.WriteMessage(websocket.TextMessage, []byte("2probe")); err != nil {
			t.Fatal(err)
		}
		if err := ws.WriteMessage(websocket.TextMessage, []byte("5")); err != nil {
			t.Fatal(err)
		}
		status, _, body := do(t, "GET", ts.url("transport=polling&sid="+op.SID), "")
		if status != 400 {
			t.Fatalf("trial %d: poll after the upgrade packet got %d %q, want 400", i, status, body)
		}
		status, _, body = do(t, "POST", ts.url("transport=polling&sid="+op.SID), "4late")
		if status != 400 {
			t.Fatalf("trial %d: post after the upgrade packet got %d %q, want 400", i, status, body)
		}
		if got := readText(t, ws); got != "3probe" {
			t.Fatalf("probe answer %q", got)
		}
		_ = ws.WriteMessage(websocket.TextMessage, []byte("4x"))
		if got := readText(t, ws); got != "4x" {
			t.Fatalf("echo over websocket %q", got)
		}
		ws.Close()
	}
}

type echoHandler struct{}

func (echoHandler) OnMessage(c *Conn, data []byte, binary bool) { _ = c.Send(data, binary, false) }
func (echoHandler) OnClose(*Conn, string)                       {}
