package socketio

import (
	"errors"

	"github.com/switchboard-go/socketio/adapter"
	"github.com/switchboard-go/socketio/engineio"
	"github.com/switchboard-go/socketio/parser"
)

// The server's packet encoding (Options.Parser). Every packet is built in
// the parser package's form; with a codec it is converted at the wire
// boundary: a single send before it is queued (client.writeCodec), a
// broadcast once per delivery, whatever the number of receivers
// (wireFrames), and a received message by the connection's decoder
// (client.OnMessage). Without one nothing here runs.

var errIncompleteFrames = errors.New("socketio: frames end before the packet's attachments")

// wireFrames converts the frames of one packet in the parser package's
// encoding, as adapters and the recovery log make them, into the server's
// encoding; without a codec it returns them as they are. It runs once per
// broadcast delivery, not once per receiver.
func (s *Server) wireFrames(frames []adapter.Frame) ([]adapter.Frame, error) {
	if s.codec == nil {
		return frames, nil
	}
	d := parser.Decoder{MaxAttachments: max(1, len(frames)-1)}
	var (
		pkt *parser.Packet
		err error
	)
	for _, f := range frames {
		if pkt, err = d.Add(f.Data, f.Binary); err != nil {
			return nil, err
		}
	}
	if pkt == nil {
		return nil, errIncompleteFrames
	}
	return s.codec.Encode(pkt)
}

// writeCodec is writePacketCompress for a server with a codec.
func (c *client) writeCodec(p *parser.Packet, volatile, noCompress bool) error {
	frames, err := c.srv.codec.Encode(p)
	if err != nil {
		c.srv.logger.Warn("socketio: cannot encode packet", "sid", c.conn.ID(), "type", p.Type, "err", err)
		return err
	}
	if len(frames) == 1 && !noCompress {
		err = c.conn.Send(frames[0].Data, frames[0].Binary, volatile)
	} else {
		msgs := make([]engineio.Message, len(frames))
		for i, f := range frames {
			msgs[i] = engineio.Message{Data: f.Data, Binary: f.Binary, NoCompress: noCompress}
		}
		err = c.conn.SendMessages(msgs, volatile)
	}
	if o := c.srv.observer(); o != nil && err == nil {
		o.PacketOut(PacketStat{Type: p.Type, Namespace: p.Namespace, Bytes: framesBytes(frames), Messages: len(frames)})
	}
	return err
}
