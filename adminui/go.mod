module github.com/switchboard-go/socketio/adminui

go 1.26.0

replace github.com/switchboard-go/socketio => ../

require (
	github.com/switchboard-go/socketio v0.0.0-00010101000000-000000000000
	golang.org/x/crypto v0.59.0
)

require github.com/gorilla/websocket v1.5.3
