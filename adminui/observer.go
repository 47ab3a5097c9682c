package adminui

import (
	"sync/atomic"

	socketio "github.com/switchboard-go/socketio"
	"github.com/switchboard-go/socketio/engineio"
)

// traffic counts what instrument() reports as packetsIn, packetsOut,
// bytesIn and bytesOut: the Engine.IO messages each connection receives
// and sends (a packet's text, and each binary attachment), and the bytes
// of their data. Like instrument(), which listens to each connection's
// "packet" and "packetCreate" events once it is open, it leaves out the
// handshake's open packet and the transport's own packets (pings, pongs,
// upgrades, noops), which carry no data.
type traffic struct {
	packetsIn, packetsOut, bytesIn, bytesOut atomic.Uint64
}

// observer is the Instrumentation's socketio.Observer (Server.Observe):
// it counts the traffic and hears upgrades. Like every observer it only
// counts and notes, and never calls back into the server.
type observer struct{ in *Instrumentation }

func (o observer) PacketIn(p socketio.PacketStat) {
	o.in.traffic.packetsIn.Add(uint64(p.Messages))
	o.in.traffic.bytesIn.Add(uint64(p.Bytes))
}

func (o observer) PacketOut(p socketio.PacketStat) {
	o.in.traffic.packetsOut.Add(uint64(p.Messages))
	o.in.traffic.bytesOut.Add(uint64(p.Bytes))
}

func (o observer) Broadcast(b socketio.BroadcastStat) {
	o.in.traffic.packetsOut.Add(uint64(b.Deliveries * b.Messages))
	o.in.traffic.bytesOut.Add(uint64(b.Deliveries * b.Bytes))
}

// ConnUpgraded has the sockets of the connection reported updated, in
// development mode (socket_updated).
func (o observer) ConnUpgraded(u engineio.ConnUpgrade) {
	if o.in.dev {
		o.in.connUpgraded(u.ID)
	}
}

func (observer) ConnOpened(engineio.ConnOpen)                 {}
func (observer) ConnRefused(engineio.ConnRefusal)             {}
func (observer) ConnClosed(engineio.ConnClose)                {}
func (observer) VolatileDropped()                             {}
func (observer) SocketConnected(socketio.SocketConnect)       {}
func (observer) SocketDisconnected(socketio.SocketDisconnect) {}
func (observer) MiddlewareRefused(socketio.MiddlewareRefusal) {}
func (observer) RoomsChanged(socketio.RoomsChange)            {}
func (observer) AckReceived(socketio.AckStat)                 {}
func (observer) EventRateLimited(socketio.RateLimitStat)      {}
