package adminui

import (
	"os"
	"sync/atomic"
	"time"
)

// processStart stands for the process's start: the package's
// initialization, early in any program that imports it.
var processStart = time.Now()

// statsBase is what server_stats repeats unchanged.
type statsBase struct {
	ServerID string `json:"serverId"`
	Hostname string `json:"hostname"`
	PID      int    `json:"pid"`
}

func newStatsBase(serverID string) statsBase {
	h := hostname()
	if serverID == "" {
		serverID = h
	}
	return statsBase{ServerID: serverID, Hostname: h, PID: os.Getpid()}
}

// serverStats is the server_stats event's argument.
type serverStats struct {
	statsBase
	Uptime              float64           `json:"uptime"` // seconds, as process.uptime()
	ClientsCount        int               `json:"clientsCount"`
	PollingClientsCount int               `json:"pollingClientsCount"`
	AggregatedEvents    []aggregatedEvent `json:"aggregatedEvents"`
	Namespaces          []namespaceStats  `json:"namespaces"`
}

// aggregatedEvent counts the events of one type within one second: the
// dashboard charts the connections and disconnections, and the bytes in
// and out.
type aggregatedEvent struct {
	Timestamp int64  `json:"timestamp"` // milliseconds since the epoch, a whole second
	Type      string `json:"type"`
	SubType   string `json:"subType,omitempty"`
	Count     uint64 `json:"count"`
}

type namespaceStats struct {
	Name         string `json:"name"`
	SocketsCount int    `json:"socketsCount"`
}

// engineCounts are the engine's counters at the previous server_stats.
type engineCounts struct {
	handshakes uint64
	open       int
}

// stats builds server_stats. The engine's connections opened and closed
// since the previous call become this second's rawConnection and
// rawDisconnection events, and the traffic the observer counted its
// packetsIn, packetsOut, bytesIn and bytesOut events (instrument() puts
// each event in the second it happened; the total per period is the
// same).
func (in *Instrumentation) stats() serverStats {
	st := in.srv.Engine().Stats()
	in.mu.Lock()
	opened := st.Handshakes - in.prev.handshakes
	closed := int64(opened) - int64(st.Connections-in.prev.open)
	in.prev = engineCounts{handshakes: st.Handshakes, open: st.Connections}
	in.mu.Unlock()

	t := time.Now()
	second := t.Truncate(time.Second).UnixMilli()
	events := []aggregatedEvent{}
	if opened > 0 {
		events = append(events, aggregatedEvent{Timestamp: second, Type: "rawConnection", Count: opened})
	}
	if closed > 0 {
		events = append(events, aggregatedEvent{Timestamp: second, Type: "rawDisconnection", Count: uint64(closed)})
	}
	for _, c := range [...]struct {
		typ string
		n   *atomic.Uint64
	}{
		{"packetsIn", &in.traffic.packetsIn},
		{"packetsOut", &in.traffic.packetsOut},
		{"bytesIn", &in.traffic.bytesIn},
		{"bytesOut", &in.traffic.bytesOut},
	} {
		if n := c.n.Swap(0); n > 0 {
			events = append(events, aggregatedEvent{Timestamp: second, Type: c.typ, Count: n})
		}
	}
	out := serverStats{
		statsBase:           in.base,
		Uptime:              t.Sub(processStart).Seconds(),
		ClientsCount:        st.Connections,
		PollingClientsCount: st.Polling,
		AggregatedEvents:    events,
		Namespaces:          []namespaceStats{},
	}
	for _, ns := range in.srv.Namespaces() {
		out.Namespaces = append(out.Namespaces, namespaceStats{Name: ns.Name(), SocketsCount: len(ns.Sockets())})
	}
	return out
}

func (in *Instrumentation) emitStats() { in.emit("server_stats", in.stats()) }
