module github.com/switchboard-go/socketio/msgpackparser

go 1.26.0

replace github.com/switchboard-go/socketio => ../

require (
	github.com/switchboard-go/socketio v0.0.0-00010101000000-000000000000
	github.com/vmihailenco/msgpack/v5 v5.4.1
)

require (
	github.com/gorilla/websocket v1.5.3 // indirect
	github.com/vmihailenco/tagparser/v2 v2.0.0 // indirect
)
