package engineio

import (
	"errors"
	"net/http"
	"runtime/debug"
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

// refuse answers a request refused before it reaches a session, and
// reports it to Options.OnConnectionError.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, code int, message string) {
	s.refuseStatus(w, r, 0, code, message)
}

// refuseStatus is refuse with an HTTP status other than the code's (0:
// the code's).
func (s *Server) refuseStatus(w http.ResponseWriter, r *http.Request, status, code int, message string) {
	if message == "" {
		message = codeMessages[code]
	}
	if o := s.observer(); o != nil {
		o.ConnRefused(ConnRefusal{Code: code, Message: message})
	}
	if fn := s.cfg.OnConnectionError; fn != nil {
		func() {
			defer func() {
				if p := recover(); p != nil {
					s.cfg.Logger.Error("engineio: OnConnectionError panicked", "panic", p, "stack", string(debug.Stack()))
				}
			}()
			fn(r, code, message)
		}()
	}
	writeErrorStatus(w, status, code, message)
}

// writeError answers a request the protocol refuses.
func writeError(w http.ResponseWriter, code int, message string) {
	writeErrorStatus(w, 0, code, message)
}

func writeErrorStatus(w http.ResponseWriter, status, code int, message string) {
	if status == 0 {
		status = http.StatusBadRequest
		if code == CodeForbidden {
			status = http.StatusForbidden
		}
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
