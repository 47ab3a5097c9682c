module github.com/switchboard-go/socketio/interop

go 1.26

replace github.com/switchboard-go/socketio => ../

require (
	github.com/gorilla/websocket v1.5.3
	github.com/switchboard-go/socketio v0.0.0-00010101000000-000000000000
)
