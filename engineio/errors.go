package engineio

import (
	"errors"
	"net/http"
	"strconv"
)

// The Engine.IO error codes a server answers bad requests with, as the
// reference server does: an HTTP status and a JSON body
// {"code": N, "message": "..."}.
const (
	CodeUnknownTransport    = 0
	CodeUnknownSID          = 1
	CodeBadHandshakeMethod  = 2
	CodeBadRequest          = 3
	CodeForbidden           = 4
	CodeUnsupportedProtocol = 5
)

var codeMessages = [...]string{
	CodeUnknownTransport:    "Transport unknown",
	CodeUnknownSID:          "Session ID unknown",
	CodeBadHandshakeMethod:  "Bad handshake method",
	CodeBadRequest:          "Bad request",
	CodeForbidden:           "Forbidden",
	CodeUnsupportedProtocol: "Unsupported protocol version",
}

// Close reasons, the strings the reference server reports (and that the
// Socket.IO layer passes on as disconnect reasons), plus this
// implementation's two backpressure reasons.
const (
	ReasonTransportClose    = "transport close"
	ReasonTransportError    = "transport error"
	ReasonPingTimeout       = "ping timeout"
	ReasonParseError        = "parse error"
	ReasonForcedClose       = "forced close"
	ReasonForcedServerClose = "forced server close"
	// ReasonQueueOverflow: the client did not read fast enough and its
	// outbound queue (Options.MaxQueueBytes) overflowed.
	ReasonQueueOverflow = "queue overflow"
	// ReasonWriteTimeout: a WebSocket write did not finish within
	// Options.WriteTimeout.
	ReasonWriteTimeout = "write timeout"
)

// ErrClosed is returned when sending on a closed connection.
var ErrClosed = errors.New("engineio: connection closed")

// writeError answers a request the protocol refuses.
func writeError(w http.ResponseWriter, code int, message string) {
	status := http.StatusBadRequest
	if code == CodeForbidden {
		status = http.StatusForbidden
	}
	if message == "" {
		message = codeMessages[code]
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	w.WriteHeader(status)
	b := make([]byte, 0, 32+len(message))
	b = append(b, `{"code":`...)
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, `,"message":`...)
	b = strconv.AppendQuote(b, message)
	b = append(b, '}')
	_, _ = w.Write(b)
}
