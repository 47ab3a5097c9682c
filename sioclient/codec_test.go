package sioclient_test

import (
	"context"
	"reflect"
	"sync/atomic"
	"testing"

	socketio "github.com/switchboard-go/socketio"
	"github.com/switchboard-go/socketio/parser"
	"github.com/switchboard-go/socketio/socketiotest"
)

// testCodec is a parser.Codec that writes socket.io-parser's encoding,
// each text frame behind a '~' so that a decoder of that encoding alone
// rejects it, and counts what goes through it.
type testCodec struct{ encoded, decoded *atomic.Int64 }

func (c testCodec) Encode(p *parser.Packet) ([]parser.Frame, error) {
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
