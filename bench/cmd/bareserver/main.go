// Command bareserver is the floor the library is measured against: a
// WebSocket server that speaks just enough Engine.IO / Socket.IO to serve
// the benchmark contract, with none of the library's machinery. A
// broadcast is framed once and the same bytes are queued to every
// connection; each connection's writer drains its queue with one writev.
// Echo acks are built by slicing the received text (no JSON decoding).
//
//	bareserver -addr 127.0.0.1:3002 [-writer persistent|ondemand] [-reader handler|goroutine] [-readbuf N]
//
// The flags are experiments for idle memory. -writer persistent keeps a
// writer goroutine per connection (as the library does); ondemand starts
// one when the queue goes from empty to non-empty and lets it exit when it
// is drained, so an idle connection holds only its reader. -reader handler
// reads on the net/http request goroutine (as the library does), which
// keeps net/http's per-connection state alive (its 4 KiB bufio.Writer, the
// request); goroutine returns from the handler and reads on a new
// goroutine. -readbuf sets gorilla's read buffer (0: reuse net/http's
// 4 KiB one).
package main

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/gorilla/websocket"
)

type conn struct {
	ws *websocket.Conn
	nc net.Conn

	mu      sync.Mutex
	queue   [][]byte
	running bool // ondemand: a writer goroutine is active
	wake    chan struct{}
	closed  bool
}

type server struct {
	ondemand bool
	ownRead  bool
	mu       sync.RWMutex
	conns    map[*conn]struct{}
	nextID   atomic.Uint64
	upgrader websocket.Upgrader
}

func main() {
	addr := flag.String("addr", "127.0.0.1:3002", "listen address")
	writer := flag.String("writer", "persistent", "persistent or ondemand writer goroutine per connection")
	reader := flag.String("reader", "handler", "handler (read on the request goroutine) or goroutine (a new one)")
	readBuf := flag.Int("readbuf", 0, "gorilla read buffer size (0: reuse net/http's)")
	flag.Parse()
	s := &server{ondemand: *writer == "ondemand", ownRead: *reader == "goroutine", conns: make(map[*conn]struct{})}
	s.upgrader = websocket.Upgrader{WriteBufferPool: &sync.Pool{}, ReadBufferSize: *readBuf}
	mux := http.NewServeMux()
	mux.HandleFunc("/socket.io/", s.serve)
	fmt.Printf("bareserver listening on %s pid %d GOMAXPROCS %d writer %s\n", *addr, os.Getpid(), runtime.GOMAXPROCS(0), *writer)
	log.Fatal(http.ListenAndServe(*addr, mux))
}

// frame returns an unmasked server text frame holding payload.
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

func (s *server) serve(w http.ResponseWriter, r *http.Request) {
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &conn{ws: ws, nc: ws.NetConn()}
	if !s.ondemand {
		c.wake = make(chan struct{}, 1)
		go c.writeLoop()
	}
	sid := strconv.FormatUint(s.nextID.Add(1), 36)
	c.send(frame([]byte(`0{"sid":"`+sid+`","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`)), s.ondemand)
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		c.mu.Lock()
		c.closed = true
		c.mu.Unlock()
		if c.wake != nil {
			close(c.wake)
		}
		_ = ws.Close()
	}()
	for {
		_, m, err := ws.ReadMessage()
		if err != nil {
			return
		}
		switch {
		case bytes.Equal(m, []byte("40")):
			s.mu.Lock()
			s.conns[c] = struct{}{}
			s.mu.Unlock()
			c.send(frame([]byte(`40{"sid":"s`+sid+`"}`)), s.ondemand)
		case bytes.HasPrefix(m, []byte(`42["broadcast",`)):
			f := frame(m) // framed once, shared by every target
			s.mu.RLock()
			for t := range s.conns {
				t.send(f, s.ondemand)
			}
			s.mu.RUnlock()
		case bytes.HasPrefix(m, []byte("42")):
			// 42<id>["echo",args...] → 43<id>[args...]
			i := bytes.IndexByte(m, '[')
			j := bytes.IndexByte(m, ',')
			if i < 0 || j < 0 {
				continue
			}
			ack := make([]byte, 0, len(m))
			ack = append(ack, "43"...)
			ack = append(ack, m[2:i+1]...)
			ack = append(ack, m[j+1:]...)
			c.send(frame(ack), s.ondemand)
		}
	}
}

// send queues a pre-framed message.
func (c *conn) send(f []byte, ondemand bool) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.queue = append(c.queue, f)
	start := ondemand && !c.running
	if start {
		c.running = true
	}
	c.mu.Unlock()
	if start {
		go c.drainOnce()
	} else if !ondemand {
		select {
		case c.wake <- struct{}{}:
		default:
		}
	}
}

// flush writes everything queued with one writev; it reports false when
// the queue was empty.
func (c *conn) flush() (bool, error) {
	c.mu.Lock()
	q := c.queue
	c.queue = nil
	c.mu.Unlock()
	if len(q) == 0 {
		return false, nil
	}
	bufs := net.Buffers(q)
	_, err := bufs.WriteTo(c.nc)
	return true, err
}

func (c *conn) writeLoop() {
	for range c.wake {
		for {
			more, err := c.flush()
			if err != nil {
				_ = c.nc.Close()
				return
			}
			if !more {
				break
			}
		}
	}
}

// drainOnce is the on-demand writer: it exits once the queue is empty.
func (c *conn) drainOnce() {
	for {
		if _, err := c.flush(); err != nil {
			_ = c.nc.Close()
		}
		c.mu.Lock()
		if len(c.queue) == 0 || c.closed {
			c.running = false
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
	}
}
