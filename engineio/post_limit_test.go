package engineio

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// A POST body of exactly MaxPayload bytes is taken, one byte more is
// refused with 413 and closes the session: whether the client announced
// its length (Content-Length) or not (chunked).
func TestPostAtMaxPayload(t *testing.T) {
	for _, chunked := range []bool{false, true} {
		ts := startServer(t, &Options{MaxPayload: 100}, false)
		post := func(body string) int {
			t.Helper()
			op := handshake(t, ts)
			ts.nextConn(t)
			var r io.Reader = strings.NewReader(body)
			if chunked {
				r = io.MultiReader(r) // no length known: sent chunked
			}
			req, err := http.NewRequest("POST", ts.url("transport=polling&sid="+op.SID), r)
			if err != nil {
				t.Fatal(err)
			}
			res, err := http.DefaultTransport.(*http.Transport).RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			return res.StatusCode
		}
		fits := "4" + strings.Repeat("x", 99)
		if status := post(fits); status != http.StatusOK {
			t.Fatalf("chunked %v: %d bytes: status %d", chunked, len(fits), status)
		}
		if m := receive(t, ts.rec.msgs, "message not delivered"); string(m.Data) != fits[1:] {
			t.Fatalf("chunked %v: delivered %d bytes", chunked, len(m.Data))
		}
		if status := post(fits + "y"); status != http.StatusRequestEntityTooLarge {
			t.Fatalf("chunked %v: %d bytes: status %d, want 413", chunked, len(fits)+1, status)
		}
		if r := ts.closeReason(t); r != ReasonTransportError {
			t.Fatalf("chunked %v: reason %q", chunked, r)
		}
	}
}
