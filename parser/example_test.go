package parser_test

import (
	"fmt"

	"github.com/switchboard-go/socketio/parser"
)

func ExamplePacket_Encode() {
	data, attachments, err := parser.EncodeArgs([]any{"upload", "notes.txt", []byte("hello")})
	if err != nil {
		panic(err)
	}
	p := parser.Packet{
		Type:        parser.BinaryEvent, // the payload has a placeholder
		Namespace:   "/files",
		ID:          7,
		HasID:       true,
		Data:        data,
		Attachments: attachments,
	}
	fmt.Printf("%s\n", p.Encode())
	for _, a := range p.Attachments {
		fmt.Printf("+ %q\n", a)
	}
	// Output:
	// 51-/files,7["upload","notes.txt",{"_placeholder":true,"num":0}]
	// + "hello"
}

func ExampleDecoder() {
	var d parser.Decoder
	messages := []struct {
		binary bool
		data   string
	}{
		{false, `2["hello","world"]`},
		{false, `51-/files,7["upload",{"_placeholder":true,"num":0}]`},
		{true, "file content"},
		{false, `1/files,`},
	}
	for _, m := range messages {
		var p *parser.Packet
		var err error
		if m.binary {
			p, err = d.AddBinary([]byte(m.data))
		} else {
			p, err = d.AddText([]byte(m.data))
		}
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		if p == nil {
			fmt.Println("waiting for attachments")
			continue
		}
		fmt.Printf("%v %s id=%d/%v data=%s attachments=%q\n", p.Type, p.Namespace, p.ID, p.HasID, p.Data, p.Attachments)

		if p.Type == parser.Event || p.Type == parser.BinaryEvent {
			args, _ := parser.SplitArray(p.Data)
			var name string
			_ = parser.Unmarshal(args[0], p.Attachments, &name)
			for _, raw := range args[1:] {
				var v any
				_ = parser.Unmarshal(raw, p.Attachments, &v)
				fmt.Printf("  %s(%T %v)\n", name, v, v)
			}
		}
	}
	// Output:
	// EVENT / id=0/false data=["hello","world"] attachments=[]
	//   hello(string world)
	// waiting for attachments
	// BINARY_EVENT /files id=7/true data=["upload",{"_placeholder":true,"num":0}] attachments=["file content"]
	//   upload([]uint8 [102 105 108 101 32 99 111 110 116 101 110 116])
	// DISCONNECT /files id=0/false data= attachments=[]
}
