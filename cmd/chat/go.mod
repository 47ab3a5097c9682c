module github.com/switchboard-go/socketio/cmd/chat

go 1.26.0

replace github.com/switchboard-go/socketio => ../..

require golang.org/x/crypto v0.59.0

require golang.org/x/sys v0.50.0 // indirect
