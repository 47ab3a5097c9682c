package engineio

import (
	"crypto/tls"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// What a session keeps of its handshake gives back the request as it
// came: every header value in order (repeated names, empty values, long
// ones whose length takes two bytes to write, any bytes), the request
// line, host, remote address, protocol and TLS state.
func TestKeptRequestRoundTrip(t *testing.T) {
	r, err := http.NewRequest("GET", "http://example.com/socket.io/?EIO=4&transport=polling&n=%C3%A9", nil)
	if err != nil {
		t.Fatal(err)
	}
	r.RequestURI = "/socket.io/?EIO=4&transport=polling&n=%C3%A9"
	r.Host = "example.com:8080"
	r.RemoteAddr = "192.0.2.7:51234"
	r.Proto, r.ProtoMajor, r.ProtoMinor = "HTTP/1.0", 1, 0
	r.TLS = &tls.ConnectionState{ServerName: "example.com"}
	r.Header = http.Header{
		"X-Multi": {"first", "second", ""},
		"X-Long":  {strings.Repeat("λ", 200)},
		"Cookie":  {"a=1; b=2"},
		"X-Empty": {""},
	}
	c := &Conn{req: keepRequest(r)}
	for range 2 {
		got := c.Request()
		if got.Method != "GET" || got.RequestURI != r.RequestURI || got.URL.Query().Get("n") != "é" ||
			got.Host != r.Host || got.RemoteAddr != r.RemoteAddr || got.Proto != "HTTP/1.0" ||
			got.ProtoMajor != 1 || got.ProtoMinor != 0 || got.TLS != r.TLS {
			t.Errorf("request %s %q host %q remote %q %s %d.%d tls %v", got.Method, got.RequestURI, got.Host,
				got.RemoteAddr, got.Proto, got.ProtoMajor, got.ProtoMinor, got.TLS)
		}
		if !reflect.DeepEqual(got.Header, r.Header) {
			t.Errorf("headers\n got %q\nwant %q", got.Header, r.Header)
		}
	}
	// A request with no headers at all.
	bare := &http.Request{Method: "GET", RequestURI: "/socket.io/", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
	got := (&Conn{req: keepRequest(bare)}).Request()
	if got.RequestURI != "/socket.io/" || len(got.Header) != 0 || got.Host != "" || got.Proto != "HTTP/1.1" {
		t.Errorf("bare request: %q %v %q %q", got.RequestURI, got.Header, got.Host, got.Proto)
	}
}
