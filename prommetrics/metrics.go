package prommetrics

import (
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	socketio "github.com/switchboard-go/socketio"
	"github.com/switchboard-go/socketio/adapter/cluster"
	"github.com/switchboard-go/socketio/engineio"
	"github.com/switchboard-go/socketio/parser"
)

// Metrics is a socketio.Observer that keeps Prometheus metrics, and a
// prometheus.Collector that exports them: give it to the server as
// Options.Observer and register it with a registry. One Metrics observes
// one server. Its methods are safe for concurrent use.
type Metrics struct {
	connections        *prometheus.GaugeVec
	connectionsOpened  *prometheus.CounterVec
	upgrades           prometheus.Counter
	handshakesRefused  *prometheus.CounterVec
	disconnects        *prometheus.CounterVec
	connectionDuration prometheus.Histogram
	queuePeak          prometheus.Histogram
	volatileDropped    prometheus.Counter

	sockets            *prometheus.GaugeVec
	socketDisconnects  *prometheus.CounterVec
	middlewareRefusals *prometheus.CounterVec
	rateLimited        *prometheus.CounterVec
	rooms              *prometheus.GaugeVec
	broadcasts         *prometheus.CounterVec
	deliveries         *prometheus.CounterVec
	ackRTT             *prometheus.HistogramVec
	clusterErrors      *prometheus.CounterVec

	packetsIn, packetsOut, bytesIn, bytesOut *prometheus.CounterVec

	// The counters of each packet type, looked up once: a packet costs
	// an array index rather than a label hash.
	pktIn, pktOut, bIn, bOut [numTypes]prometheus.Counter

	nsps sync.Map // namespace name → *nspMetrics
	all  []prometheus.Collector
}

// numTypes is the number of Socket.IO packet types (CONNECT … BINARY_ACK);
// another type counts as "other".
const numTypes = int(parser.BinaryAck) + 2

// typeNames are the values of the "type" label.
var typeNames = [numTypes]string{
	parser.Connect:      "connect",
	parser.Disconnect:   "disconnect",
	parser.Event:        "event",
	parser.Ack:          "ack",
	parser.ConnectError: "connect_error",
	parser.BinaryEvent:  "binary_event",
	parser.BinaryAck:    "binary_ack",
	numTypes - 1:        "other",
}

func typeIndex(t parser.PacketType) int {
	if int(t) < numTypes-1 {
		return int(t)
	}
	return numTypes - 1
}

// nspMetrics are the children of one namespace, looked up once.
type nspMetrics struct {
	sockets, rooms         prometheus.Gauge
	broadcasts, deliveries prometheus.Counter
	ackRTT                 prometheus.Observer
}

// New returns the metrics of one server, all starting at zero.
func New() *Metrics {
	const ns = "socketio"
	m := &Metrics{
		connections: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Name: "connections",
			Help: "Engine.IO connections open now, by current transport."}, []string{"transport"}),
		connectionsOpened: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "connections_opened_total",
			Help: "Engine.IO handshakes accepted, by the transport the connection started on."}, []string{"transport"}),
		upgrades: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "upgrades_total",
			Help: "Connections upgraded from long-polling to WebSocket."}),
		handshakesRefused: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "handshakes_refused_total",
			Help: "Requests refused before reaching a session, by Engine.IO error code (0 unknown transport, 1 unknown session id, 2 bad handshake method, 3 bad request, 4 forbidden, 5 unsupported protocol version)."}, []string{"code"}),
		disconnects: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "disconnects_total",
			Help: "Engine.IO connections closed, by reason (transport close, ping timeout, queue overflow, write timeout, ...)."}, []string{"reason"}),
		connectionDuration: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Name: "connection_duration_seconds",
			Help:    "How long closed connections lasted.",
			Buckets: []float64{1, 10, 60, 300, 1800, 3600, 4 * 3600, 24 * 3600}}),
		queuePeak: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Name: "queue_peak_bytes",
			Help:    "High-water mark of each closed connection's outbound queue, in bytes.",
			Buckets: prometheus.ExponentialBuckets(256, 4, 9)}), // 256 B … 16 MiB
		volatileDropped: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "volatile_dropped_total",
			Help: "Volatile messages dropped for clients that were behind or upgrading."}),

		sockets: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Name: "sockets",
			Help: "Sockets connected now, by namespace."}, []string{"namespace"}),
		socketDisconnects: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "socket_disconnects_total",
			Help: "Sockets disconnected, by namespace and Socket.IO reason."}, []string{"namespace", "reason"}),
		middlewareRefusals: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "middleware_refusals_total",
			Help: "Connections to a namespace refused by its middleware."}, []string{"namespace"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "rate_limited_total",
			Help: "Events refused by a namespace's rate limits, by namespace, the limited event (empty: the per-socket limit) and the action (drop or disconnect)."},
			[]string{"namespace", "event", "action"}),
		rooms: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Name: "rooms",
			Help: "Rooms with at least one socket on this server, by namespace (not counting each socket's own room)."}, []string{"namespace"}),
		broadcasts: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "broadcasts_total",
			Help: "Packets delivered to the local sockets of a broadcast, by namespace."}, []string{"namespace"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "deliveries_total",
			Help: "Sockets the broadcasts reached, by namespace."}, []string{"namespace"}),
		ackRTT: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: "ack_rtt_seconds",
			Help:    "Time from an emit that asks for an acknowledgement to the client's answer, by namespace.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 4, 9)}, // 0.5 ms … 33 s
			[]string{"namespace"}),
		clusterErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "cluster_errors_total",
			Help: "Failures of the cluster adapter (Redis), by namespace and kind: setup, publish, timeout, respond, malformed. Counted only with ClusterError given as the adapter's OnError."},
			[]string{"namespace", "kind"}),

		packetsIn: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "packets_received_total",
			Help: "Socket.IO packets received, by type."}, []string{"type"}),
		packetsOut: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "packets_sent_total",
			Help: "Socket.IO packets queued for clients, by type; a broadcast counts once per socket reached."}, []string{"type"}),
		bytesIn: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "received_bytes_total",
			Help: "Bytes of the Socket.IO packets received (text and binary attachments, before Engine.IO framing), by type."}, []string{"type"}),
		bytesOut: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "sent_bytes_total",
			Help: "Bytes of the Socket.IO packets queued for clients (text and binary attachments, before Engine.IO framing), by type."}, []string{"type"}),
	}
	for i, name := range typeNames {
		m.pktIn[i] = m.packetsIn.WithLabelValues(name)
		m.pktOut[i] = m.packetsOut.WithLabelValues(name)
		m.bIn[i] = m.bytesIn.WithLabelValues(name)
		m.bOut[i] = m.bytesOut.WithLabelValues(name)
	}
	for _, t := range []string{engineio.TransportPolling, engineio.TransportWebSocket} {
		m.connections.WithLabelValues(t)
		m.connectionsOpened.WithLabelValues(t)
	}
	m.all = []prometheus.Collector{
		m.connections, m.connectionsOpened, m.upgrades, m.handshakesRefused, m.disconnects,
		m.connectionDuration, m.queuePeak, m.volatileDropped,
		m.sockets, m.socketDisconnects, m.middlewareRefusals, m.rateLimited, m.rooms, m.broadcasts, m.deliveries, m.ackRTT,
		m.clusterErrors,
		m.packetsIn, m.packetsOut, m.bytesIn, m.bytesOut,
	}
	return m
}

var (
	_ socketio.Observer    = (*Metrics)(nil)
	_ prometheus.Collector = (*Metrics)(nil)
)

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range m.all {
		c.Describe(ch)
	}
}

// Collect implements prometheus.Collector.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	for _, c := range m.all {
		c.Collect(ch)
	}
}

func (m *Metrics) nsp(name string) *nspMetrics {
	if v, ok := m.nsps.Load(name); ok {
		return v.(*nspMetrics)
	}
	n := &nspMetrics{
		sockets:    m.sockets.WithLabelValues(name),
		rooms:      m.rooms.WithLabelValues(name),
		broadcasts: m.broadcasts.WithLabelValues(name),
		deliveries: m.deliveries.WithLabelValues(name),
		ackRTT:     m.ackRTT.WithLabelValues(name),
	}
	v, _ := m.nsps.LoadOrStore(name, n)
	return v.(*nspMetrics)
}

// ConnOpened implements engineio.Observer.
func (m *Metrics) ConnOpened(e engineio.ConnOpen) {
	m.connectionsOpened.WithLabelValues(e.Transport).Inc()
	m.connections.WithLabelValues(e.Transport).Inc()
}

// ConnUpgraded implements engineio.Observer.
func (m *Metrics) ConnUpgraded(e engineio.ConnUpgrade) {
	m.upgrades.Inc()
	m.connections.WithLabelValues(e.From).Dec()
	m.connections.WithLabelValues(e.To).Inc()
}

// ConnRefused implements engineio.Observer.
func (m *Metrics) ConnRefused(e engineio.ConnRefusal) {
	m.handshakesRefused.WithLabelValues(strconv.Itoa(e.Code)).Inc()
}

// ConnClosed implements engineio.Observer.
func (m *Metrics) ConnClosed(e engineio.ConnClose) {
	m.connections.WithLabelValues(e.Transport).Dec()
	m.disconnects.WithLabelValues(e.Reason).Inc()
	m.connectionDuration.Observe(e.Duration.Seconds())
	m.queuePeak.Observe(float64(e.QueuePeak))
}

// VolatileDropped implements engineio.Observer.
func (m *Metrics) VolatileDropped() { m.volatileDropped.Inc() }

// SocketConnected implements socketio.Observer.
func (m *Metrics) SocketConnected(e socketio.SocketConnect) { m.nsp(e.Namespace).sockets.Inc() }

// SocketDisconnected implements socketio.Observer.
func (m *Metrics) SocketDisconnected(e socketio.SocketDisconnect) {
	m.nsp(e.Namespace).sockets.Dec()
	m.socketDisconnects.WithLabelValues(e.Namespace, string(e.Reason)).Inc()
}

// MiddlewareRefused implements socketio.Observer.
func (m *Metrics) MiddlewareRefused(e socketio.MiddlewareRefusal) {
	m.middlewareRefusals.WithLabelValues(e.Namespace).Inc()
}

// EventRateLimited implements socketio.Observer.
func (m *Metrics) EventRateLimited(e socketio.RateLimitStat) {
	action := "drop"
	if e.Disconnected {
		action = "disconnect"
	}
	m.rateLimited.WithLabelValues(e.Namespace, e.Event, action).Inc()
}

// ClusterError counts a failure of a cluster adapter: give it as the
// adapter's OnError (redisadapter.Options.OnError,
// cluster.Config.OnError).
func (m *Metrics) ClusterError(e cluster.Error) {
	m.clusterErrors.WithLabelValues(e.Namespace, string(e.Kind)).Inc()
}

// RoomsChanged implements socketio.Observer.
func (m *Metrics) RoomsChanged(e socketio.RoomsChange) {
	m.nsp(e.Namespace).rooms.Add(float64(e.Delta))
}

// PacketIn implements socketio.Observer.
func (m *Metrics) PacketIn(e socketio.PacketStat) {
	i := typeIndex(e.Type)
	m.pktIn[i].Inc()
	m.bIn[i].Add(float64(e.Bytes))
}

// PacketOut implements socketio.Observer.
func (m *Metrics) PacketOut(e socketio.PacketStat) {
	i := typeIndex(e.Type)
	m.pktOut[i].Inc()
	m.bOut[i].Add(float64(e.Bytes))
}

// Broadcast implements socketio.Observer.
func (m *Metrics) Broadcast(e socketio.BroadcastStat) {
	n := m.nsp(e.Namespace)
	n.broadcasts.Inc()
	n.deliveries.Add(float64(e.Deliveries))
	i := typeIndex(e.Type)
	m.pktOut[i].Add(float64(e.Deliveries))
	m.bOut[i].Add(float64(e.Deliveries) * float64(e.Bytes))
}

// AckReceived implements socketio.Observer.
func (m *Metrics) AckReceived(e socketio.AckStat) {
	m.nsp(e.Namespace).ackRTT.Observe(e.RTT.Seconds())
}
