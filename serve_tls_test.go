package socketio_test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/switchboard-go/socketio"
	"github.com/switchboard-go/socketio/sioclient"
)

// ServeTLS: the Go client over https, long-polling and upgraded, through
// the server's own front over TLS; the page beside it served by net/http
// with its r.TLS.
func TestServeTLS(t *testing.T) {
	// httptest's certificate for 127.0.0.1, borrowed from a server that is
	// closed at once.
	ts := httptest.NewTLSServer(http.NotFoundHandler())
	cert, pool := ts.TLS.Certificates[0], x509.NewCertPool()
	pool.AddCert(ts.Certificate())
	ts.Close()

	io := socketio.NewServer(nil)
	io.OnConnection(func(s *socketio.Socket) {
		s.On("hello", func(e *socketio.Event) { _ = e.Ack(s.Handshake().Secure) })
	})
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil {
			http.Error(w, "no TLS state", http.StatusInternalServerError)
		}
	})
	hs := &http.Server{Handler: mux, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- io.ServeTLS(ln, hs, "", "") }()
	defer func() {
		_ = io.Close()
		_ = hs.Close()
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("ServeTLS returned %v", err)
		}
	}()
	url := "https://" + ln.Addr().String()

	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Get(url + "/")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("the page: %d", resp.StatusCode)
	}

	c, err := sioclient.New(url+"/", &sioclient.Options{TLSConfig: &tls.Config{RootCAs: pool}})
	if err != nil {
		t.Fatal(err)
	}
	connected := make(chan struct{})
	c.OnConnect(func() { close(connected) })
	c.Connect()
	defer c.Disconnect()
	select {
	case <-connected:
	case <-time.After(5 * time.Second):
		t.Fatal("not connected")
	}
	ctx, cancel := timeout()
	defer cancel()
	ack, err := c.EmitWithAck(ctx, "hello")
	if err != nil {
		t.Fatal(err)
	}
	if secure, _ := ack.Value(0).(bool); !secure {
		t.Errorf("the socket's handshake is not secure: %v", ack.Value(0))
	}
}
