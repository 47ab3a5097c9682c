// Command nbioserver is an experiment for the transport design, not a
// product: the bare benchmark contract (see bareserver) with WebSocket
// connections accepted by the standard net/http server, hijacked, and
// handed to an nbio epoll poller (lesismal/nbio,
// BlockingModTrasferConnToPoller). No goroutine and no read buffer is held
// per idle connection, while the HTTP side stays a plain http.Handler —
// the shape the library would keep. Broadcast frames are built once and
// written raw to every connection (nbio queues what the socket does not
// take at once).
//
//	nbioserver -addr 127.0.0.1:3003
package main

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/lesismal/nbio/nbhttp"
	"github.com/lesismal/nbio/nbhttp/websocket"
)

type server struct {
	mu     sync.RWMutex
	conns  map[*websocket.Conn]struct{}
	nextID atomic.Uint64
}

func frame(payload []byte) []byte {
	n := len(payload)
	b := make([]byte, 0, n+10)
	b = append(b, 0x81)
	switch {
	case n < 126:
		b = append(b, byte(n))
	case n < 1<<16:
		b = append(b, 126, byte(n>>8), byte(n))
	default:
		b = append(b, 127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	return append(b, payload...)
}

func main() {
	addr := flag.String("addr", "127.0.0.1:3003", "listen address")
	flag.Parse()

	engine := nbhttp.NewEngine(nbhttp.Config{NPoller: runtime.GOMAXPROCS(0)})
	if err := engine.Start(); err != nil {
		log.Fatal(err)
	}
	s := &server{conns: make(map[*websocket.Conn]struct{})}
	u := websocket.NewUpgrader()
	u.Engine = engine
	u.BlockingModTrasferConnToPoller = true
	u.OnMessage(s.onMessage)
	u.OnClose(func(c *websocket.Conn, _ error) {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
	})

	mux := http.NewServeMux()
	mux.HandleFunc("/socket.io/", func(w http.ResponseWriter, r *http.Request) {
		c, err := u.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		sid := strconv.FormatUint(s.nextID.Add(1), 36)
		c.SetSession(sid)
		_ = c.WriteMessage(websocket.TextMessage, []byte(`0{"sid":"`+sid+`","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`))
		// Returning releases the request goroutine; the poller owns the
		// connection from here.
	})
	fmt.Printf("nbioserver listening on %s pid %d GOMAXPROCS %d\n", *addr, os.Getpid(), runtime.GOMAXPROCS(0))
	log.Fatal(http.ListenAndServe(*addr, mux))
}

func (s *server) onMessage(c *websocket.Conn, _ websocket.MessageType, m []byte) {
	switch {
	case bytes.Equal(m, []byte("40")):
		s.mu.Lock()
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		sid, _ := c.Session().(string)
		_ = c.WriteMessage(websocket.TextMessage, []byte(`40{"sid":"s`+sid+`"}`))
	case bytes.HasPrefix(m, []byte(`42["broadcast",`)):
		f := frame(m)
		s.mu.RLock()
		for t := range s.conns {
			_, _ = t.Conn.Write(f)
		}
		s.mu.RUnlock()
	case bytes.HasPrefix(m, []byte("42")):
		i := bytes.IndexByte(m, '[')
		j := bytes.IndexByte(m, ',')
		if i < 0 || j < 0 {
			return
		}
		ack := make([]byte, 0, len(m))
		ack = append(ack, "43"...)
		ack = append(ack, m[2:i+1]...)
		ack = append(ack, m[j+1:]...)
		_ = c.WriteMessage(websocket.TextMessage, ack)
	}
}
