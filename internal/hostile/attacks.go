package hostile

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Attacks returns every attack, in the order they run.
func Attacks() []*Attack {
	pollingOnly := []Path{PathPoller, PathFront}
	return []*Attack{
		// Long-polling and handshakes: no WebSocket reader involved.
		{Name: "forged-sid", Paths: pollingOnly, run: forgedSID},
		{Name: "bad-query", Paths: pollingOnly, run: badQuery},
		{Name: "repeated-eio", Paths: pollingOnly, run: repeatedEIO},
		{Name: "overlapping-polls", Paths: pollingOnly, run: overlappingPolls},
		{Name: "oversized-post", Paths: pollingOnly, run: oversizedPost},
		{Name: "invalid-eio-post", Paths: pollingOnly, run: invalidEIOPost},
		{Name: "nesting-bomb-post", Paths: pollingOnly, run: nestingBombPost},
		{Name: "stalled-post", Paths: pollingOnly, run: stalledPost},
		{Name: "handshake-flood", Paths: pollingOnly, run: handshakeFlood, Settle: sessionsExpire,
			// Up to 2,000 sessions and 1,000 pending requests live at
			// once, a few KiB each on both sides (the attacker runs in
			// the same process).
			PeakBudget: func(Limits) uint64 { return 64 << 20 },
			// The first flood of 2,000 connections leaves 0.6-1.0 MiB
			// more live heap once its sessions are gone, and further
			// floods add nothing (measured, six floods each waited out:
			// 0.4 MiB, then 1.0, 1.1, 1.1, 1.1, 1.1, 1.1): maps grown to
			// hold 2,000 entries (the engine's sessions, net/http's
			// connection set) keep their size. 2 MiB lets that pass but
			// not a session kept per connection (2,000 × several KiB).
			HeapSlack: 2 << 20},

		// WebSocket frames: every reader path.
		{Name: "ws-oversized", run: wsOversized},
		{Name: "ws-length-2^63-1", run: wsLengthMax},
		{Name: "ws-length-2^63", run: wsLengthTopBit},
		{Name: "ws-garbage-frames", run: wsGarbage},
		{Name: "ws-invalid-utf8", run: wsInvalidUTF8},
		{Name: "ws-close-1-byte", run: wsClose1Byte},
		{Name: "ws-close-bad-utf8", run: wsCloseBadUTF8},
		{Name: "ws-deflate-bomb", Paths: []Path{PathDeflate}, run: wsDeflateBomb},
		{Name: "ws-invalid-eio", run: wsInvalidEIO},
		{Name: "ws-ping-flood", run: wsPingFlood},

		// Socket.IO packets over WebSocket: every reader path.
		{Name: "sio-invalid-packets", run: sioInvalidPackets},
		{Name: "nesting-bomb", run: nestingBomb},
		{Name: "bad-attachments", run: badAttachments},
		{Name: "bad-namespaces", run: badNamespaces},
		{Name: "slow-reader", run: slowReader,
			// The slow reader's queue (MaxQueueBytes, 1 MiB) and the
			// broadcasts in flight to it and to the flooding helper.
			PeakBudget: func(l Limits) uint64 { return 32 << 20 }},
		{Name: "broadcast-flood", run: broadcastFlood,
			PeakBudget: func(l Limits) uint64 { return 48 << 20 }},
	}
}

// cases runs named sub-cases, each returning "" when it got the expected
// answer, and folds them into one outcome.
func cases(names []string, run func(i int) string) outcome {
	var bad []string
	for i, n := range names {
		if msg := run(i); msg != "" {
			bad = append(bad, n+": "+msg)
		}
	}
	if len(bad) > 0 {
		return fail("%d/%d wrong: %s", len(bad), len(names), strings.Join(bad, "; "))
	}
	return pass("%d cases answered as expected", len(names))
}

func wantCode(a httpAnswer, status, code int) string {
	if a.err != nil || a.status != status || (code >= 0 && a.eioCode() != code) {
		return fmt.Sprintf("got %s, want %d with code %d", a, status, code)
	}
	return ""
}

// sessionsExpire is how long sessions that never join a namespace take to
// be forgotten: closed after ConnectTimeout, then kept for PingTimeout so
// that a poll can still collect the close packet; plus 3 s of margin.
func sessionsExpire(l Limits) time.Duration { return l.ConnectTimeout + l.PingTimeout + 3*time.Second }

// --- Long-polling and handshakes ---

func forgedSID(e *env) outcome {
	t := e.t
	names := []string{"GET random sid", "POST random sid", "10 KB sid", "WebSocket upgrade with random sid"}
	return cases(names, func(i int) string {
		switch i {
		case 0:
			return wantCode(t.do("GET", sidQuery("AAAAAAAAAAAAAAAAAAAA"), nil, nil), 400, 1)
		case 1:
			return wantCode(t.do("POST", sidQuery("AAAAAAAAAAAAAAAAAAAA"), strings.NewReader("4hello"), nil), 400, 1)
		case 2:
			return wantCode(t.do("GET", sidQuery(strings.Repeat("x", 10_000)), nil, nil), 400, 1)
		default:
			ws, err := upgradeWS(t, nil, "EIO=4&transport=websocket&sid=AAAAAAAAAAAAAAAAAAAA", false)
			if err == nil {
				ws.close()
				return "upgrade accepted"
			}
			if !strings.Contains(err.Error(), "400") {
				return err.Error()
			}
			return ""
		}
	})
}

func badQuery(e *env) outcome {
	t := e.t
	type c struct {
		name, method, q string
		code            int
	}
	cs := []c{
		{"EIO=3", "GET", "EIO=3&transport=polling", 5},
		{"no EIO", "GET", "transport=polling", 5},
		{"EIO=abc", "GET", "EIO=abc&transport=polling", 5},
		{"transport=foo", "GET", "EIO=4&transport=foo", 0},
		{"no transport", "GET", "EIO=4", 0},
		{"transport=websocket without upgrade", "GET", "EIO=4&transport=websocket", 3},
		{"POST handshake", "POST", "EIO=4&transport=polling", 2},
	}
	names := make([]string, len(cs))
	for i := range cs {
		names[i] = cs[i].name
	}
	return cases(names, func(i int) string {
		var body io.Reader
		if cs[i].method == "POST" {
			body = strings.NewReader("4x")
		}
		return wantCode(t.do(cs[i].method, cs[i].q, body, nil), 400, cs[i].code)
	})
}

func repeatedEIO(e *env) outcome {
	// The reference server refuses a repeated EIO (its value is then an
	// array); the first value must not win.
	return cases([]string{"EIO=4&EIO=3"}, func(int) string {
		return wantCode(e.t.do("GET", "EIO=4&EIO=3&transport=polling", nil, nil), 400, 5)
	})
}

func overlappingPolls(e *env) outcome {
	t := e.t
	sid, err := t.openPolling()
	if err != nil {
		return fail("%v", err)
	}
	first := make(chan httpAnswer, 1)
	go func() { first <- t.do("GET", sidQuery(sid), nil, nil) }()
	time.Sleep(100 * time.Millisecond) // the first poll is parked; nothing observable says so
	second := t.do("GET", sidQuery(sid), nil, nil)
	if msg := wantCode(second, 400, 3); msg != "" {
		return fail("second poll: %s", msg)
	}
	select {
	case a := <-first:
		if a.err != nil || a.status != 200 {
			return fail("first poll: %s", a)
		}
	case <-time.After(3 * time.Second):
		return fail("first poll still pending 3s after the overlap")
	}
	if msg := wantCode(t.do("GET", sidQuery(sid), nil, nil), 400, 1); msg != "" {
		return fail("session still open after the overlap: %s", msg)
	}
	return pass("second poll 400, first released, session closed")
}

func oversizedPost(e *env) outcome {
	t := e.t
	big := "4" + strings.Repeat("a", t.Limits.MaxPayload)
	names := []string{"Content-Length over MaxPayload", "chunked body over MaxPayload"}
	return cases(names, func(i int) string {
		sid, err := t.openPolling()
		if err != nil {
			return err.Error()
		}
		if i == 0 {
			return refusedByLength(t, sid, big)
		}
		// No length: chunked, refused once MaxPayload bytes are read.
		a := t.do("POST", sidQuery(sid), io.MultiReader(strings.NewReader(big)), nil)
		if a.err != nil || a.status != 413 {
			return fmt.Sprintf("got %s, want 413", a)
		}
		return ""
	})
}

// refusedByLength sends a POST of body, announced by its Content-Length,
// over a connection of its own, and wants 413. The body is written by
// another goroutine while the answer is read: http.Client reported the
// error of a body write that the server's answer (and its closing the
// connection) had cut short, instead of the answer.
func refusedByLength(t *Target, sid, body string) string {
	conn, err := dialTCP(t, nil)
	if err != nil {
		return err.Error()
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	go func() {
		// Its error, if the server closes first, is not the answer.
		_, _ = fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: %d\r\n\r\n%s",
			t.requestURI(sidQuery(sid)), t.host, len(body), body)
	}()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return "no answer: " + err.Error()
	}
	_ = resp.Body.Close()
	if resp.StatusCode != 413 {
		return fmt.Sprintf("got %d, want 413", resp.StatusCode)
	}
	return ""
}

// sessionEnded reports whether a polling session is closed: its next poll
// gets the close packet or an unknown-sid refusal.
func sessionEnded(t *Target, sid string) string {
	for range 3 {
		a := t.do("GET", sidQuery(sid), nil, nil)
		switch {
		case a.err != nil:
			return a.err.Error()
		case a.status == 400 && a.eioCode() == 1:
			return ""
		case a.status == 200 && strings.Contains(a.body, "1"):
			if strings.HasSuffix(a.body, "1") || strings.Contains(a.body, "\x1e1") || a.body == "1" {
				return ""
			}
		case a.status == 200:
			continue // queued messages first; poll again
		}
		return "session alive: poll answered " + a.String()
	}
	return "session alive after 3 polls"
}

func invalidEIOPost(e *env) outcome {
	t := e.t
	bodies := []string{"9", "x", "4ok\x1e9", "b!!!"}
	names := []string{"type 9", "type x", "bad packet after a good one", "bad base64"}
	return cases(names, func(i int) string {
		sid, err := t.openPolling()
		if err != nil {
			return err.Error()
		}
		a := t.do("POST", sidQuery(sid), strings.NewReader(bodies[i]), nil)
		if a.err != nil || a.status != 200 {
			return "POST answered " + a.String()
		}
		return sessionEnded(t, sid)
	})
}

func nestingBombPost(e *env) outcome {
	t := e.t
	sid, err := t.openPolling()
	if err != nil {
		return fail("%v", err)
	}
	if a := t.do("POST", sidQuery(sid), strings.NewReader("40"), nil); a.status != 200 {
		return fail("CONNECT: %s", a)
	}
	a := t.do("POST", sidQuery(sid), strings.NewReader(nestedEvent(t.Limits.MaxPayload)), nil)
	if a.err != nil || a.status != 200 {
		return fail("POST answered %s", a)
	}
	if msg := sessionEnded(t, sid); msg != "" {
		return fail("%s", msg)
	}
	return pass("session closed")
}

// nestedEvent is an EVENT whose argument nests arrays as deep as fits in
// max bytes (far past the parser's 10,000 levels when max allows).
func nestedEvent(max int) string {
	depth := min((max-20)/2, 40_000)
	return `42["echo",` + strings.Repeat("[", depth) + strings.Repeat("]", depth) + `]`
}

// stalledPosts is how many chunked POSTs the stalled-post attack leaves
// hanging; the issue saw 98 of 100 goroutines stay.
const stalledPosts = 100

func stalledPost(e *env) outcome {
	t := e.t
	conns := make([]net.Conn, 0, stalledPosts)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range stalledPosts {
		sid, err := t.openPolling()
		if err != nil {
			return fail("%v", err)
		}
		c, err := dialTCP(t, nil)
		if err != nil {
			return fail("%v", err)
		}
		conns = append(conns, c)
		req := "POST " + t.requestURI(sidQuery(sid)) + " HTTP/1.1\r\nHost: " + t.host +
			"\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n4ab\r\n"
		if _, err := io.WriteString(c, req); err != nil {
			return fail("%v", err)
		}
	}
	// The sessions never join a namespace: the server ends them after
	// ConnectTimeout. Every stalled request must then be answered or its
	// connection closed, though the client still holds it open.
	wait := t.Limits.ConnectTimeout + 2*time.Second
	released := make(chan bool, len(conns))
	for _, c := range conns {
		go func() {
			_ = c.SetReadDeadline(time.Now().Add(wait))
			_, err := c.Read(make([]byte, 1))
			ne, ok := err.(net.Error)
			released <- !(ok && ne.Timeout())
		}()
	}
	n := 0
	for range conns {
		if <-released {
			n++
		}
	}
	held := ""
	if t.InProcess {
		held = fmt.Sprintf(", goroutines %+d over baseline while the client still holds them",
			settle().goroutines-e.base.goroutines)
	}
	if n < len(conns) {
		return fail("%d/%d stalled POSTs still held %s after their sessions' ConnectTimeout%s", len(conns)-n, len(conns), ms(wait), held)
	}
	return pass("all %d stalled POSTs released%s", len(conns), held)
}

// handshakeFlood opens 1,000 long-polling sessions that never continue and
// 1,000 connections that never finish a WebSocket handshake's request.
func handshakeFlood(e *env) outcome {
	t := e.t
	const sessions, partial = 1000, 1000
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range partial {
		c, err := dialTCP(t, nil)
		if err != nil {
			return fail("partial handshake %d: %v", len(conns), err)
		}
		conns = append(conns, c)
		_, _ = io.WriteString(c, "GET "+t.requestURI("EIO=4&transport=websocket")+" HTTP/1.1\r\nHost: "+t.host+"\r\nUpgrade: websocket\r\n")
	}
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		failed int
		first  error
	)
	sem := make(chan struct{}, 16)
	for range sessions {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if _, err := t.openPolling(); err != nil {
				mu.Lock()
				failed++
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if failed > 0 {
		return fail("%d/%d polling handshakes failed: %v", failed, sessions, first)
	}
	if msg := e.obs.check(5 * time.Second); msg != "" {
		return fail("with %d pending handshakes and %d idle sessions, the well-behaved client: %s", partial, sessions, msg)
	}
	return pass("%d sessions opened, %d half-sent requests held; client fine meanwhile", sessions, partial)
}

// --- WebSocket frames ---

// wsCase opens a fresh WebSocket, sends what send sends, and checks how
// the server ended it within d.
func wsCase(t *Target, send func(ws *rawWS) error, d time.Duration, want func(wsEnd) bool) string {
	ws, err := dialWS(t, nil)
	if err != nil {
		return err.Error()
	}
	defer ws.close()
	if err := send(ws); err != nil {
		return "sending: " + err.Error()
	}
	end := ws.waitEnd(d)
	if !want(end) {
		return end.String()
	}
	return ""
}

func closeCode(code int) func(wsEnd) bool { return func(e wsEnd) bool { return e.code == code } }

// closed accepts any end: close frame or dropped connection.
func closed(e wsEnd) bool { return !e.open }

func wsOversized(e *env) outcome {
	t := e.t
	n := t.Limits.MaxPayload
	names := []string{"text frame MaxPayload+1", "binary frame MaxPayload+1", "fragments summing to MaxPayload+1", "header MaxPayload+1, body never sent"}
	return cases(names, func(i int) string {
		return wsCase(t, func(ws *rawWS) error {
			switch i {
			case 0:
				return ws.send(5*time.Second, frame{fin: true, op: opText, payload: bytes.Repeat([]byte("4"), n+1), length: -1})
			case 1:
				return ws.send(5*time.Second, frame{fin: true, op: opBinary, payload: make([]byte, n+1), length: -1})
			case 2:
				half := bytes.Repeat([]byte("a"), n/2+1)
				return ws.send(5*time.Second,
					frame{op: opText, payload: append([]byte("4"), half...), length: -1},
					frame{fin: true, op: opCont, payload: half, length: -1})
			default:
				return ws.send(5*time.Second, frame{fin: true, op: opText, payload: []byte("4abc"), length: int64(n + 1)})
			}
		}, 3*time.Second, closeCode(closeTooBig))
	})
}

func wsLengthMax(e *env) outcome {
	return cases([]string{"64-bit length 2^63-1"}, func(int) string {
		return wsCase(e.t, func(ws *rawWS) error {
			return ws.send(time.Second, frame{fin: true, op: opText, payload: []byte("4abc"), length: -1, hugeLen: 1<<63 - 1})
		}, 3*time.Second, closeCode(closeTooBig))
	})
}

func wsLengthTopBit(e *env) outcome {
	// RFC 6455 §5.2: the most significant bit of a 64-bit length must be
	// 0. The issue asks for 1009; a protocol error (1002) is as right.
	// Dropping the connection without a close frame is not.
	return cases([]string{"64-bit length 2^63"}, func(int) string {
		return wsCase(e.t, func(ws *rawWS) error {
			return ws.send(time.Second, frame{fin: true, op: opText, payload: []byte("4abc"), length: -1, hugeLen: 1 << 63})
		}, 3*time.Second, func(e wsEnd) bool { return e.code == closeTooBig || e.code == closeProtocolError })
	})
}

func wsGarbage(e *env) outcome {
	type c struct {
		name string
		f    []frame
		raw  []byte
	}
	ping := frame{fin: true, op: opPing, payload: []byte("x"), length: -1}
	cs := []c{
		{name: "opcode 3", f: []frame{{fin: true, op: 0x3, payload: []byte("4x"), length: -1}}},
		{name: "opcode 0xB", f: []frame{{fin: true, op: 0xB, length: -1}}},
		{name: "RSV2 set", f: []frame{{fin: true, rsv: 0x20, op: opText, payload: []byte("4x"), length: -1}}},
		{name: "RSV3 set", f: []frame{{fin: true, rsv: 0x10, op: opText, payload: []byte("4x"), length: -1}}},
		{name: "unmasked", f: []frame{{fin: true, op: opText, payload: []byte("4x"), length: -1, noMask: true}}},
		{name: "continuation first", f: []frame{{fin: true, op: opCont, payload: []byte("4x"), length: -1}}},
		{name: "text inside fragmented text", f: []frame{{op: opText, payload: []byte("4x"), length: -1}, {fin: true, op: opText, payload: []byte("4y"), length: -1}}},
		{name: "fragmented ping", f: []frame{{op: opPing, payload: []byte("x"), length: -1}, ping}},
		{name: "ping of 126 bytes", f: []frame{{fin: true, op: opPing, payload: make([]byte, 126), length: -1}}},
		{name: "close code 999", f: []frame{{fin: true, op: opClose, payload: []byte{0x03, 0xE7}, length: -1}}},
		{name: "close code 1005", f: []frame{{fin: true, op: opClose, payload: []byte{0x03, 0xED}, length: -1}}},
		{name: "close code 5000", f: []frame{{fin: true, op: opClose, payload: []byte{0x13, 0x88}, length: -1}}},
		{name: "an HTTP request as frames", raw: []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")},
	}
	names := make([]string, len(cs))
	for i := range cs {
		names[i] = cs[i].name
	}
	return cases(names, func(i int) string {
		return wsCase(e.t, func(ws *rawWS) error {
			if cs[i].raw != nil {
				_ = ws.conn.SetWriteDeadline(time.Now().Add(time.Second))
				_, err := ws.conn.Write(cs[i].raw)
				return err
			}
			return ws.send(time.Second, cs[i].f...)
		}, 3*time.Second, closeCode(closeProtocolError))
	})
}

func wsInvalidUTF8(e *env) outcome {
	names := []string{"one text frame", "split over fragments", "overlong encoding", "surrogate half"}
	payloads := [][]byte{[]byte("4\xff\xfe"), nil, []byte("4\xc0\xaf"), []byte("4\xed\xa0\x80")}
	return cases(names, func(i int) string {
		return wsCase(e.t, func(ws *rawWS) error {
			if i == 1 {
				// "€" is E2 82 AC; the second fragment ends it wrongly.
				return ws.send(time.Second,
					frame{op: opText, payload: []byte("4\xe2\x82"), length: -1},
					frame{fin: true, op: opCont, payload: []byte("\x41"), length: -1})
			}
			return ws.send(time.Second, frame{fin: true, op: opText, payload: payloads[i], length: -1})
		}, 3*time.Second, closeCode(closeInvalidData))
	})
}

func wsClose1Byte(e *env) outcome {
	return cases([]string{"close payload of 1 byte"}, func(int) string {
		return wsCase(e.t, func(ws *rawWS) error {
			return ws.send(time.Second, frame{fin: true, op: opClose, payload: []byte{0x03}, length: -1})
		}, 3*time.Second, closeCode(closeProtocolError))
	})
}

func wsCloseBadUTF8(e *env) outcome {
	return cases([]string{"close reason \\xff\\xfe"}, func(int) string {
		return wsCase(e.t, func(ws *rawWS) error {
			return ws.send(time.Second, frame{fin: true, op: opClose, payload: []byte{0x03, 0xE8, 0xff, 0xfe}, length: -1})
		}, 3*time.Second, closeCode(closeInvalidData))
	})
}

// bombSize is how far the deflate bomb inflates: 16 MiB, 168 times the
// MaxPayload of DefaultLimits, from about 16 KB on the wire.
const bombSize = 16 << 20

func wsDeflateBomb(e *env) outcome {
	t := e.t
	ws, err := dialWS(t, nil)
	if err != nil {
		return fail("%v", err)
	}
	defer ws.close()
	if !ws.deflate {
		return fail("server did not negotiate permessage-deflate")
	}
	if err := ws.sioConnect(); err != nil {
		return fail("%v", err)
	}
	body := deflateBomb(`42["echo","`, bombSize, `"]`)
	if err := ws.send(5*time.Second, frame{fin: true, rsv: 0x40, op: opText, payload: body, length: -1}); err != nil {
		return fail("sending: %v", err)
	}
	end := ws.waitEnd(3 * time.Second)
	if end.code != closeTooBig {
		return fail("%d compressed bytes inflating to %s: %s, want close 1009", len(body), mib(bombSize), end)
	}
	return pass("%d compressed bytes inflating to %s: %s", len(body), mib(bombSize), end)
}

func wsInvalidEIO(e *env) outcome {
	names := []string{"text type 9", "text type x", "empty text frame", "open packet from the client", "binary before joining"}
	texts := []string{"9", "x", "", "0{}"}
	return cases(names, func(i int) string {
		return wsCase(e.t, func(ws *rawWS) error {
			if i == 4 {
				return ws.sendBinary([]byte{1, 2, 3})
			}
			return ws.sendText(texts[i])
		}, 3*time.Second, closed)
	})
}

// wsPingFlood sends pings as fast as the server takes them and never reads
// the pongs. The server must cut the connection once its pong writes stall
// for WriteTimeout.
func wsPingFlood(e *env) outcome {
	t := e.t
	ws, err := dialWS(t, smallBufferDialer())
	if err != nil {
		return fail("%v", err)
	}
	defer ws.close()
	// Joined, so that ConnectTimeout does not end the connection for
	// another reason while the pongs stall.
	if err := ws.sioConnect(); err != nil {
		return fail("%v", err)
	}
	ping := frame{fin: true, op: opPing, payload: bytes.Repeat([]byte("p"), 125), length: -1}
	batch := bytes.Repeat(ping.bytes(), 64)
	w := &pacedWriter{conn: ws.conn}
	start := time.Now()
	// 16 MiB is four times what the kernel buffers of both ends hold
	// between a server's writes and a client that does not read.
	const floodBytes = 16 << 20
	for time.Since(start) < time.Second && w.sent < floodBytes {
		if err := w.write(batch, 100*time.Millisecond); err != nil {
			return pass("cut during the flood after %s (%d KiB of pings sent)", ms(time.Since(start)), w.sent>>10)
		}
	}
	flood := time.Since(start)
	// From now on only probe, one small ping at a time: a write fails
	// once the server has closed the connection (the first gets a reset).
	// The pongs stalled during the flood, so WriteTimeout from its end is
	// already late; 2 s more absorb a loaded machine.
	limit := t.Limits.WriteTimeout + 2*time.Second
	probe := frame{fin: true, op: opPing, length: -1}.bytes()
	for time.Since(start) < flood+limit {
		time.Sleep(100 * time.Millisecond)
		if err := w.write(probe, 100*time.Millisecond); err != nil {
			return pass("cut %s after the flood ended (%d KiB of pings sent; WriteTimeout %s)",
				ms(time.Since(start)-flood), w.sent>>10, t.Limits.WriteTimeout)
		}
	}
	return fail("still open %s after a %s flood of %d KiB of pings whose pongs it never reads (WriteTimeout %s)",
		ms(limit), ms(flood), w.sent>>10, t.Limits.WriteTimeout)
}

// --- Socket.IO packets ---

// sioCase is wsCase after joining the main namespace.
func sioCase(t *Target, send func(ws *rawWS) error, d time.Duration, want func(wsEnd) bool) string {
	return wsCase(t, func(ws *rawWS) error {
		if err := ws.sioConnect(); err != nil {
			return err
		}
		return send(ws)
	}, d, want)
}

func sioInvalidPackets(e *env) outcome {
	texts := []string{"47", "48", "4x", `42"notarray"`, `42[]`, `42[{}]`, `42{`, `42[null]`, `42["disconnecting"]`, `44{"message":"x"}`, `42/nope,["echo"]`, `40`, `41/nope,`}
	names := []string{"type 7", "type 8", "type x", "EVENT data not an array", "EVENT []", "EVENT name not a string", "truncated JSON", "EVENT name null", "reserved EVENT name",
		"CONNECT_ERROR from a client", "EVENT to a namespace not joined", "second CONNECT to /", "DISCONNECT of a namespace not joined"}
	return cases(names, func(i int) string {
		return sioCase(e.t, func(ws *rawWS) error { return ws.sendText(texts[i]) }, 3*time.Second, closed)
	})
}

func nestingBomb(e *env) outcome {
	t := e.t
	obj := `42["echo",` + strings.Repeat(`{"a":`, 12_000) + "1" + strings.Repeat("}", 12_000) + `]`
	names := []string{"arrays 40,000 deep", "objects 12,000 deep"}
	return cases(names, func(i int) string {
		return sioCase(t, func(ws *rawWS) error {
			if i == 0 {
				return ws.sendText(nestedEvent(t.Limits.MaxPayload))
			}
			return ws.sendText(obj)
		}, 3*time.Second, closed)
	})
}

func badAttachments(e *env) outcome {
	t := e.t
	placeholder := func(n int) string { return `{"_placeholder":true,"num":` + strconv.Itoa(n) + `}` }
	names := []string{"11 attachments (MaxAttachments 10)", "placeholder out of range", "attachment missing, text packet instead",
		"binary frame with nothing pending", "negative count", "count past int64", "attachments never sent"}
	return cases(names, func(i int) string {
		if i == 6 {
			// Declared, never sent: the server keeps waiting (as the
			// reference does); the connection must stay usable as a
			// connection and free everything once the client leaves.
			return sioCase(t, func(ws *rawWS) error {
				return ws.sendText(`452-["echo",` + placeholder(0) + `,` + placeholder(1) + `]`)
			}, 500*time.Millisecond, func(e wsEnd) bool { return e.open })
		}
		return sioCase(t, func(ws *rawWS) error {
			switch i {
			case 0:
				var b []string
				for n := range 11 {
					b = append(b, placeholder(n))
				}
				return ws.sendText(`4511-["echo",` + strings.Join(b, ",") + `]`)
			case 1:
				if err := ws.sendText(`451-["echo",` + placeholder(5) + `]`); err != nil {
					return err
				}
				return ws.sendBinary([]byte{1})
			case 2:
				if err := ws.sendText(`452-["echo",` + placeholder(0) + `,` + placeholder(1) + `]`); err != nil {
					return err
				}
				if err := ws.sendBinary([]byte{1}); err != nil {
					return err
				}
				return ws.sendText(`42["echo","x"]`)
			case 3:
				return ws.sendBinary([]byte{1, 2, 3})
			case 4:
				return ws.sendText(`45-1-["echo",` + placeholder(0) + `]`)
			default:
				return ws.sendText(`4599999999999999999999-["echo",` + placeholder(0) + `]`)
			}
		}, 3*time.Second, closed)
	})
}

func badNamespaces(e *env) outcome {
	t := e.t
	names := []string{"CONNECT to an unknown namespace", "CONNECT to a 50 KB namespace", "EVENT to it after the refusal"}
	return cases(names, func(i int) string {
		ws, err := dialWS(t, nil)
		if err != nil {
			return err.Error()
		}
		defer ws.close()
		nsp := "/nope"
		if i == 1 {
			nsp = "/" + strings.Repeat("n", 50_000)
		}
		if err := ws.sendText("40" + nsp + ","); err != nil {
			return err.Error()
		}
		op, msg, err := ws.readMessage(3 * time.Second)
		if err != nil {
			return "CONNECT: " + err.Error()
		}
		if want := "44" + nsp + `,{"message":"Invalid namespace"}`; op != opText || string(msg) != want {
			return fmt.Sprintf("CONNECT answered %q", clip(msg))
		}
		if i < 2 {
			// The connection stays; the main namespace is still open to it.
			if err := ws.sioConnect(); err != nil {
				return "after the refusal: " + err.Error()
			}
			return ""
		}
		if err := ws.sendText("42" + nsp + `,["echo","x"]`); err != nil {
			return err.Error()
		}
		if end := ws.waitEnd(3 * time.Second); end.open {
			return "EVENT after the refusal: " + end.String()
		}
		return ""
	})
}

// driver is a raw client joined to "/" that emits broadcasts and reads
// (and discards) whatever it is sent, counting the broadcasts.
type driver struct {
	ws     *rawWS
	got    chan struct{} // one per broadcast received
	ended  chan wsEnd
	paceNs int64 // minimum time between two reads; 0: as fast as possible
}

func newDriver(t *Target, d *net.Dialer, offerDeflate bool, pace time.Duration) (*driver, error) {
	ws, err := dialWSDeflate(t, d, offerDeflate)
	if err != nil {
		return nil, err
	}
	if err := ws.sioConnect(); err != nil {
		ws.close()
		return nil, err
	}
	dr := &driver{ws: ws, got: make(chan struct{}, 1<<20), ended: make(chan wsEnd, 1), paceNs: int64(pace)}
	go dr.read()
	return dr, nil
}

func (d *driver) read() {
	start := time.Now()
	var (
		first time.Time // first broadcast received
		count int64
	)
	for {
		op, msg, err := d.ws.readMessage(time.Hour)
		if err != nil {
			if ce, ok := err.(*closeError); ok {
				d.ended <- wsEnd{code: ce.code, after: time.Since(start)}
			} else {
				d.ended <- wsEnd{dropped: true, after: time.Since(start)}
			}
			return
		}
		bcast := op == opText && bytes.HasPrefix(msg, []byte(`42["`+evBcast+`"`))
		if bcast {
			d.got <- struct{}{}
		}
		if op == opText && string(msg) == "2" {
			_ = d.ws.sendText("3")
		}
		if d.paceNs > 0 && bcast {
			// One broadcast per pace on average since the first, sleeping
			// only when 5 ms ahead: shorter sleeps overshoot and would
			// make the reader slower than its rate.
			if count == 0 {
				first = time.Now()
			}
			count++
			if ahead := time.Until(first.Add(time.Duration(count * d.paceNs))); ahead > 5*time.Millisecond {
				time.Sleep(ahead)
			}
		}
	}
}

// emit sends n broadcasts of size bytes each, as fast as the connection
// takes them, and returns how long that took.
func (d *driver) emit(n, size int) (time.Duration, error) {
	// Incompressible arguments (random base64), so that permessage-deflate
	// does not shrink what the receivers must take.
	const perWrite = 32
	var batch []byte
	for range perWrite {
		arg := make([]byte, size*3/4)
		_, _ = rand.Read(arg)
		ev := `42["` + evFlood + `","` + base64.StdEncoding.EncodeToString(arg) + `"]`
		batch = append(batch, frame{fin: true, op: opText, payload: []byte(ev), length: -1}.bytes()...)
	}
	start := time.Now()
	for sent := 0; sent < n; sent += perWrite {
		_ = d.ws.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if _, err := d.ws.conn.Write(batch); err != nil {
			return time.Since(start), err
		}
	}
	return time.Since(start), nil
}

// slowReader: a client that joins and never reads while broadcasts go
// out. It must be cut (queue overflow or write timeout) while the others
// keep their connections.
func slowReader(e *env) outcome {
	t := e.t
	slow, err := dialWS(t, smallBufferDialer())
	if err != nil {
		return fail("%v", err)
	}
	defer slow.close()
	if err := slow.sioConnect(); err != nil {
		return fail("%v", err)
	}
	// The driver only emits (and discards what it gets): it need not be
	// on the path under test, and inflating is what would slow it down.
	drv, err := newDriver(t, nil, false, 0)
	if err != nil {
		return fail("%v", err)
	}
	defer drv.ws.close()
	// 2 MiB of broadcasts, paced in bursts of 64 KiB every 30 ms (~2
	// MiB/s, which the other readers take easily, under the race detector
	// too): more than the slow reader's queue (1 MiB) and the socket
	// buffers (serverSendBuffer and 4 KiB) hold.
	const n, size, burst = 2048, 1024, 64
	for sent := 0; sent < n; sent += burst {
		if _, err := drv.emit(burst, size); err != nil {
			return fail("driver: %v", err)
		}
		time.Sleep(30 * time.Millisecond)
	}
	// Probe the slow reader with writes (it never reads): once the server
	// has closed it, a write fails.
	limit := t.Limits.WriteTimeout + 2*time.Second
	start := time.Now()
	probe := frame{fin: true, op: opPing, length: -1}.bytes()
	w := &pacedWriter{conn: slow.conn}
	for time.Since(start) < limit {
		if err := w.write(probe, 100*time.Millisecond); err != nil {
			goto cut
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fail("the reader that never reads is still connected %s after %d broadcasts of %d bytes", ms(limit), n, size)
cut:
	select {
	case end := <-drv.ended:
		return fail("the driver, which reads, was cut too: %s", end)
	default:
	}
	return pass("the reader that never reads was cut within %s of the last broadcast", ms(time.Since(start)))
}

// broadcastFlood: one client emits broadcasts unpaced; a reader taking
// 2,000 messages/s must keep its connection (issue 16 item 5). The reader
// has a 128 KiB receive buffer (smaller ones stall loopback TCP, whose
// segments are 64 KiB) and the in-process server 64 KiB send buffers
// (serverSendBuffer; the kernel doubles both), so what the reader has not
// taken piles up in its server-side queue: 5,000 broadcasts of 1 KiB sent
// in 0.1 s (under 0.7 s with the race detector) leave over 3.5 MiB
// behind, against 1 MiB of queue and 0.4 MiB of socket buffers, unless
// the flooder is slowed. An external server's send buffers may hide more.
func broadcastFlood(e *env) outcome {
	t := e.t
	const n, size, rate = 5000, 1024, 2000
	// The flooder takes the path under test (on the compression path it
	// negotiates permessage-deflate, so the server reads it on a
	// goroutine); the reader does not compress: a compressing reader gets
	// broadcasts from this server at only about 300 messages/s (measured,
	// against 1,900 for a plain one), which would make it the slow party.
	reader, err := newDriver(t, bufferDialer(128<<10), false, time.Second/rate)
	if err != nil {
		return fail("%v", err)
	}
	defer reader.ws.close()
	flooder, err := newDriver(t, nil, t.Path == PathDeflate, 0)
	if err != nil {
		return fail("%v", err)
	}
	defer flooder.ws.close()
	floodStart := time.Now()
	took, err := flooder.emit(n, size)
	if err != nil {
		return fail("flooder: %v", err)
	}
	// The reader needs n/rate to take everything, however the flood is
	// paced, and more when the server reads the flood slower than that (a
	// compressed flood under the race detector: inflating is the slow
	// part, and then nobody is behind). So the reader fails only when it is
	// cut, or when nothing arrives for two seconds, or at a cap far beyond
	// any pace the server should have.
	const stall = 2 * time.Second
	idle := time.NewTimer(stall)
	defer idle.Stop()
	capped := time.After(time.Duration(n)*time.Second/rate*3/2 + 20*time.Second)
	got := 0
	readerRate := func() string {
		return strconv.Itoa(int(float64(got)/time.Since(floodStart).Seconds())) + " msg/s"
	}
	for got < n {
		select {
		case <-reader.got:
			got++
			idle.Reset(stall)
		case end := <-reader.ended:
			return fail("flooder sent %d×%d B in %s (not slowed); the reader (paced at %d msg/s, took %s) was cut after %d: %s",
				n, size, ms(took), rate, readerRate(), got, end)
		case <-idle.C:
			return fail("flooder sent %d×%d B in %s; the reader (paced at %d msg/s, took %s) got only %d, then nothing for %s", n, size, ms(took), rate, readerRate(), got, stall)
		case <-capped:
			return fail("flooder sent %d×%d B in %s; the reader (paced at %d msg/s, took %s) got only %d", n, size, ms(took), rate, readerRate(), got)
		}
	}
	return pass("flooder sent %d×%d B in %s; the reader (paced at %d msg/s, took %s) got all %d", n, size, ms(took), rate, readerRate(), got)
}
