// The interop tests, a module of their own so that `go test ./...` at the
// repository root needs Go alone. They need Node.js, the npm packages of
// node/ and browser/ (npm ci), Chromium and python-socketio, and fail
// without them (never skip): scripts/test.sh checks and installs those,
// then runs them.
module github.com/switchboard-go/socketio/interop

go 1.26.0

replace github.com/switchboard-go/socketio => ../

replace github.com/switchboard-go/socketio/msgpackparser => ../msgpackparser

require (
	github.com/gorilla/websocket v1.5.3
	github.com/switchboard-go/socketio v0.0.0-00010101000000-000000000000
	github.com/switchboard-go/socketio/msgpackparser v0.0.0-00010101000000-000000000000
)

require (
	github.com/vmihailenco/msgpack/v5 v5.4.1 // indirect
	github.com/vmihailenco/tagparser/v2 v2.0.0 // indirect
)
