package socketio_test

import (
	"bytes"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"

	"time"

	"github.com/switchboard-go/socketio"
	"github.com/switchboard-go/socketio/sioclient"
)

// Serve: long-polling clients read by the server's own HTTP front, the
// other paths of the mux served by net/http as usual.
func ExampleServer_Serve() {
	io := socketio.NewServer(nil)
	io.OnConnection(func(s *socketio.Socket) {
		s.On("hello", func(e *socketio.Event) { _ = e.Ack("hello, " + s.Conn().Transport()) })
	})

	// README: serve
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("the page"))
	})
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go func() {
		if err := io.Serve(ln, hs); !errors.Is(err, http.ErrServerClosed) {
			log.Fatal(err)
		}
	}()
	// README end
	defer func() { _ = io.Close(); _ = hs.Close() }()
	url := "http://" + ln.Addr().String()

	resp, err := http.Get(url + "/")
	if err != nil {
		panic(err)
	}
	var page bytes.Buffer
	_, _ = page.ReadFrom(resp.Body)
	_ = resp.Body.Close()
	fmt.Println(page.String())

	c, err := sioclient.New(url+"/", &sioclient.Options{Transports: []string{"polling"}})
	if err != nil {
		panic(err)
	}
	connected := make(chan struct{})
	c.OnConnect(func() { close(connected) })
	c.Connect()
	defer c.Disconnect()
	<-connected
	ctx, cancel := timeout()
	defer cancel()
	ack, err := c.EmitWithAck(ctx, "hello")
	if err != nil {
		panic(err)
	}
	fmt.Println(ack.Value(0))
	// Output:
	// the page
	// hello, polling
}
