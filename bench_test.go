package socketio

import (
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard-go/socketio/parser"
)

// BenchmarkBroadcastFanout measures one broadcast to N connected WebSocket
// clients on loopback: encode once, queue to every socket, and the
// writers' frames. Each op waits until every client has read the packet,
// so ns/op is the end-to-end cost of one fan-out (clients share the CPU).
//
// The "recovery" cases turn connection state recovery on: each broadcast
// is also logged, with an offset appended, for sockets that are away.
func BenchmarkBroadcastFanout(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(itoa(n)+"-sockets", func(b *testing.B) { benchFanout(b, n, nil) })
	}
	for _, n := range []int{100, 1000} {
		b.Run(itoa(n)+"-sockets-recovery", func(b *testing.B) {
			benchFanout(b, n, &Options{ConnectionStateRecovery: &Recovery{}})
		})
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var buf [20]byte
	i := len(buf)
	for n > 0 {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
	}
	return string(buf[i:])
}

func benchFanout(b *testing.B, n int, opts *Options) {
	payload := map[string]any{"user": "bench", "text": "hello, everyone", "ts": 1732700000000}
	benchFanoutWith(b, n, opts, func(srv *Server) error { return srv.Emit("message", payload) })
}

// BenchmarkBroadcastRelay measures a relay: a client's 1 KiB chat message,
// as the server receives it, broadcast to N sockets. Each op starts from
// the received text (the packet is decoded and split into arguments, as
// for a handler) and ends when every client has read the broadcast. The
// "decode-reencode" cases pass the argument on as a generic value
// (e.Value(0)), the "rawarg" cases as received (e.Arg(0)).
func BenchmarkBroadcastRelay(b *testing.B) {
	text := relayMessage()
	for _, n := range []int{1, 100} {
		for _, mode := range []string{"decode-reencode", "rawarg"} {
			b.Run(itoa(n)+"-sockets-"+mode, func(b *testing.B) {
				benchFanoutWith(b, n, nil, func(srv *Server) error {
					var d parser.Decoder
					p, err := d.AddText(text)
					if err != nil {
						return err
					}
					raw, err := parser.SplitArray(p.Data)
					if err != nil {
						return err
					}
					e := Event{Name: "message", Args: Args{Raw: raw[1:], Attachments: p.Attachments}}
					if mode == "rawarg" {
						return srv.Emit("message", e.Arg(0))
					}
					return srv.Emit("message", e.Value(0))
				})
			})
		}
	}
}

// relayMessage is the text of an EVENT packet carrying a chat message of
// about 1 KiB, with nested objects and arrays.
func relayMessage() []byte {
	var b strings.Builder
	b.WriteString(`2["message",{"room":"lobby","user":{"id":"u-42","name":"alice","avatar":"https://example.com/a/42.png"},"ts":1732700000000,"text":"`)
	b.WriteString(strings.Repeat("lorem ipsum dolor sit amet ", 20))
	b.WriteString(`","tags":["go","socket.io","relay"],"reactions":[`)
	for i := range 6 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"emoji":"+1","count":` + itoa(i) + `,"by":["u-` + itoa(i) + `","u-` + itoa(i+1) + `"]}`)
	}
	b.WriteString(`],"edited":false}]`)
	return []byte(b.String())
}

func benchFanoutWith(b *testing.B, n int, opts *Options, emit func(*Server) error) {
	srv := NewServer(opts)
	ts := httptest.NewServer(srv)
	defer ts.Close()
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(ts.URL, "http") + "/socket.io/?EIO=4&transport=websocket"

	var received, target atomic.Int64
	reached := make(chan struct{}, 1)
	var wg sync.WaitGroup
	conns := make([]*websocket.Conn, 0, n)
	joined := make(chan struct{}, n)
	srv.OnConnection(func(*Socket) { joined <- struct{}{} })
	for i := 0; i < n; i++ {
		ws, _, err := websocket.DefaultDialer.Dial(url, nil)
		if err != nil {
			b.Fatal(err)
		}
		conns = append(conns, ws)
		if _, _, err := ws.ReadMessage(); err != nil { // open packet
			b.Fatal(err)
		}
		_ = ws.WriteMessage(websocket.TextMessage, []byte("40"))
		if _, _, err := ws.ReadMessage(); err != nil { // CONNECT answer
			b.Fatal(err)
		}
		<-joined
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				if _, _, err := ws.ReadMessage(); err != nil {
					return
				}
				if received.Add(1) == target.Load() {
					reached <- struct{}{}
				}
			}
		}()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		target.Store(int64((i + 1) * n))
		if err := emit(srv); err != nil {
			b.Fatal(err)
		}
		select {
		case <-reached:
		case <-time.After(10 * time.Second):
			b.Fatalf("only %d of %d deliveries arrived", received.Load(), (i+1)*n)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/delivery")
	for _, ws := range conns {
		_ = ws.Close()
	}
	wg.Wait()
}
