module github.com/switchboard-go/socketio/cmd/chat

go 1.26

replace github.com/switchboard-go/socketio => ../..
