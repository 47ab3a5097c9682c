package sioclient_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync/atomic"
	"testing"

	socketio "github.com/switchboard-go/socketio"
	"github.com/switchboard-go/socketio/parser"
	"github.com/switchboard-go/socketio/sioclient"
	"github.com/switchboard-go/socketio/socketiotest"
)

// errUnencodable is testCodec's error for an event named "unencodable".
var errUnencodable = errors.New("test codec: unencodable")

// testCodec is a parser.Codec that writes socket.io-parser's encoding,
// each text frame behind a '~' so that a decoder of that encoding alone
// rejects it, and counts what goes through it.
type testCodec struct{ encoded, decoded *atomic.Int64 }

func (c testCodec) Encode(p *parser.Packet) ([]parser.Frame, error) {
	if bytes.Contains(p.Data, []byte(`"unencodable"`)) {
		return nil, errUnencodable
	}
	c.encoded.Add(1)
	frames := []parser.Frame{{Data: append([]byte("~"), p.Encode()...)}}
	for _, a := range p.Attachments {
		frames = append(frames, parser.Frame{Data: a, Binary: true})
	}
	return frames, nil
}

func (c testCodec) NewDecoder(maxAttachments int) parser.PacketDecoder {
	return &testDecoder{d: parser.Decoder{MaxAttachments: maxAttachments}, decoded: c.decoded}
}

type testDecoder struct {
	d       parser.Decoder
	decoded *atomic.Int64
}

func (d *testDecoder) Add(msg []byte, binary bool) (*parser.Packet, error) {
	if !binary {
		if len(msg) == 0 || msg[0] != '~' {
			return nil, parser.ErrInvalidPacket
		}
		msg = msg[1:]
	}
	p, err := d.d.Add(msg, binary)
	if p != nil {
		d.decoded.Add(1)
	}
	return p, err
}

func (d *testDecoder) Reset() { d.d.Reset() }

// Options.Parser encodes and decodes every packet of the connection,
// binary ones included.
func TestOptionsParser(t *testing.T) {
	var srvEnc, srvDec, cliEnc, cliDec atomic.Int64
	srv := socketio.NewServer(&socketio.Options{Parser: testCodec{&srvEnc, &srvDec}, Logger: socketiotest.Logger()})
	echoServer(srv.Of("/"))
	ts := socketiotest.Start(t, srv, "")
	opts := socketiotest.WebSocket.Options()
	opts.Parser = testCodec{&cliEnc, &cliDec}
	s, _ := socketiotest.Connect(t, ts.URL, opts, nil)

	ctx, cancel := context.WithTimeout(context.Background(), socketiotest.Timeout)
	defer cancel()
	a, err := s.EmitWithAck(ctx, "echo", "x", []byte{1, 2})
	if err != nil || !reflect.DeepEqual(a.Values(), []any{"x", []byte{1, 2}}) {
		t.Fatalf("echo through the codec: %v, %v", a.Values(), err)
	}
	// CONNECT and the emit; CONNECT, welcome and the ack.
	if cliEnc.Load() < 2 || cliDec.Load() < 3 {
		t.Errorf("the client's codec encoded %d and decoded %d packets", cliEnc.Load(), cliDec.Load())
	}
}

// A packet Options.Parser cannot encode fails its emit with the parser's
// error: at once when connected; when buffered, its acknowledgement fails
// on connection, and the emits after it are sent (it used to stay first in
// the buffer, sent in vain on every connection, and hold up the rest).
func TestOptionsParserEncodeError(t *testing.T) {
	var srvEnc, srvDec, cliEnc, cliDec atomic.Int64
	srv := socketio.NewServer(&socketio.Options{Parser: testCodec{&srvEnc, &srvDec}, Logger: socketiotest.Logger()})
	echoServer(srv.Of("/"))
	ts := socketiotest.Start(t, srv, "")
	opts := socketiotest.WebSocket.Options()
	opts.ForceNew = true
	opts.Parser = testCodec{&cliEnc, &cliDec}
	s, err := sioclient.New(ts.URL, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Manager().Close()
	l := socketiotest.Watch(s)
	failed := make(chan error, 1)
	if err := s.Emit("unencodable", sioclient.AckFunc(func(_ sioclient.Args, err error) { failed <- err })); err != nil {
		t.Fatalf("buffered emit: %v", err)
	}
	answered := make(chan string, 1)
	if err := s.Emit("echo", "after", sioclient.AckFunc(func(a sioclient.Args, err error) {
		var v string
		_ = a.Decode(0, &v)
		answered <- fmt.Sprint(v, err)
	})); err != nil {
		t.Fatal(err)
	}
	s.Connect()
	socketiotest.Receive(t, l.Connected, "the connection")
	if err := socketiotest.Receive(t, failed, "the failed ack"); !errors.Is(err, errUnencodable) {
		t.Errorf("buffered unencodable emit: %v", err)
	}
	if a := socketiotest.Receive(t, answered, "the answer to the emit after it"); a != "after<nil>" {
		t.Errorf("the emit after it: %s", a)
	}
	if err := s.Emit("unencodable"); !errors.Is(err, errUnencodable) {
		t.Errorf("connected: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), socketiotest.Timeout)
	defer cancel()
	if _, err := s.EmitWithAck(ctx, "unencodable"); !errors.Is(err, errUnencodable) {
		t.Errorf("EmitWithAck: %v", err)
	}
}
