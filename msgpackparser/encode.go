package msgpackparser

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"

	"github.com/switchboard-go/socketio/parser"
	"github.com/vmihailenco/msgpack/v5"
)

var errBadJSON = errors.New("msgpackparser: packet data is not valid JSON")

// Encode implements parser.Codec: the packet as one binary message, a map
// of type, data (when present), id (when present) and nsp, the
// placeholders of a BinaryEvent or BinaryAck replaced by their attachments
// as bin values.
func (Parser) Encode(p *parser.Packet) ([]parser.Frame, error) {
	size := len(p.Data) + len(p.Namespace) + 32
	for _, a := range p.Attachments {
		size += len(a) + 5
	}
	var buf bytes.Buffer
	buf.Grow(size)
	enc := msgpack.NewEncoder(&buf)
	t := p.Type
	switch t {
	case parser.BinaryEvent:
		t = parser.Event
	case parser.BinaryAck:
		t = parser.Ack
	}
	n := 2
	if len(p.Data) > 0 {
		n++
	}
	if p.HasID {
		n++
	}
	nsp := p.Namespace
	if nsp == "" {
		nsp = "/"
	}
	err := errors.Join(enc.EncodeMapLen(n), enc.EncodeString("type"), enc.EncodeUint(uint64(t)))
	if len(p.Data) > 0 {
		err = errors.Join(err, enc.EncodeString("data"))
		if err == nil {
			j := jsonToMsgpack{data: p.Data, enc: enc}
			if p.Type == parser.BinaryEvent || p.Type == parser.BinaryAck {
				j.atts = p.Attachments
			}
			err = j.run()
		}
	}
	if p.HasID {
		err = errors.Join(err, enc.EncodeString("id"), enc.EncodeUint(p.ID))
	}
	err = errors.Join(err, enc.EncodeString("nsp"), enc.EncodeString(nsp))
	if err != nil {
		return nil, err
	}
	return []parser.Frame{{Data: buf.Bytes(), Binary: true}}, nil
}

// container is what the first pass learns of one array or object of the
// JSON, in the order they open: msgpack writes an element count before
// the elements.
type container struct {
	count int
	ph    int // the attachment a placeholder object stands for, or -1
	end   int // offset after its closing bracket
	next  int // index of the first container after its descendants
}

// jsonToMsgpack converts valid JSON into msgpack in two passes: the first
// counts the elements of every container (and finds the placeholders),
// the second writes. Both are linear in the size of the JSON.
type jsonToMsgpack struct {
	data  []byte
	enc   *msgpack.Encoder
	atts  [][]byte // nil: placeholders are ordinary objects
	conts []container
	pos   int
	ci    int
}

func (j *jsonToMsgpack) run() error {
	if err := j.scan(); err != nil {
		return err
	}
	j.pos, j.ci = 0, 0
	if err := j.value(); err != nil {
		return err
	}
	j.space()
	if j.pos != len(j.data) {
		return errBadJSON
	}
	return nil
}

func (j *jsonToMsgpack) space() {
	for j.pos < len(j.data) {
		switch j.data[j.pos] {
		case ' ', '\t', '\n', '\r':
			j.pos++
		default:
			return
		}
	}
}

// token returns the end of the string, number or literal at j.pos.
func (j *jsonToMsgpack) token() (int, error) {
	d, i := j.data, j.pos
	if d[i] == '"' {
		for i++; i < len(d); i++ {
			switch d[i] {
			case '\\':
				i++
			case '"':
				return i + 1, nil
			}
		}
		return 0, errBadJSON
	}
	for ; i < len(d); i++ {
		switch c := d[i]; {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'z', c == '-', c == '+', c == '.', c == 'E':
		default:
			if i == j.pos {
				return 0, errBadJSON
			}
			return i, nil
		}
	}
	return i, nil
}

// scan is the first pass.
func (j *jsonToMsgpack) scan() error {
	type open struct {
		idx       int
		object    bool
		key       string // the last key read, in an object
		isPH      bool
		num       int
		expectKey bool
	}
	var stack []open
	d := j.data
	for {
		j.space()
		if j.pos >= len(d) {
			break
		}
		var top *open
		if len(stack) > 0 {
			top = &stack[len(stack)-1]
		}
		c := d[j.pos]
		switch c {
		case ',':
			j.pos++
			if top != nil && top.object {
				top.expectKey = true
			}
			continue
		case ':':
			j.pos++
			continue
		case ']', '}':
			if top == nil {
				return errBadJSON
			}
			j.pos++
			ct := &j.conts[top.idx]
			ct.end, ct.next = j.pos, len(j.conts)
			if top.isPH && top.num >= 0 && j.atts != nil {
				if top.num >= len(j.atts) {
					return errors.New("msgpackparser: placeholder for a missing attachment")
				}
				ct.ph = top.num
			}
			stack = stack[:len(stack)-1]
			continue
		}
		if top != nil && top.object && top.expectKey {
			end, err := j.token()
			if err != nil || c != '"' {
				return errBadJSON
			}
			if j.atts != nil { // only placeholders need the keys
				top.key = string(d[j.pos+1 : end-1])
				if bytes.IndexByte(d[j.pos:end], '\\') >= 0 {
					_ = json.Unmarshal(d[j.pos:end], &top.key)
				}
			}
			top.expectKey = false
			j.conts[top.idx].count++
			j.pos = end
			continue
		}
		if top != nil && !top.object {
			j.conts[top.idx].count++
		}
		switch c {
		case '[', '{':
			j.conts = append(j.conts, container{ph: -1})
			stack = append(stack, open{idx: len(j.conts) - 1, object: c == '{', expectKey: true, num: -1})
			j.pos++
			continue
		}
		end, err := j.token()
		if err != nil {
			return err
		}
		if top != nil && top.object && j.atts != nil {
			switch v := string(d[j.pos:end]); top.key {
			case "_placeholder":
				top.isPH = v == "true"
			case "num":
				if n, err := strconv.Atoi(v); err == nil && n >= 0 {
					top.num = n
				} else if f, err := strconv.ParseFloat(v, 64); err == nil && f >= 0 && f == math.Trunc(f) && f < math.MaxInt32 {
					top.num = int(f)
				}
			}
		}
		j.pos = end
	}
	if len(stack) > 0 {
		return errBadJSON
	}
	return nil
}

// value is the second pass, for the value at j.pos.
func (j *jsonToMsgpack) value() error {
	j.space()
	if j.pos >= len(j.data) {
		return errBadJSON
	}
	switch c := j.data[j.pos]; c {
	case '[', '{':
		ct := j.conts[j.ci]
		j.ci++
		if ct.ph >= 0 {
			j.pos, j.ci = ct.end, ct.next
			return j.enc.EncodeBytes(j.atts[ct.ph])
		}
		j.pos++
		var err error
		if c == '[' {
			err = j.enc.EncodeArrayLen(ct.count)
		} else {
			err = j.enc.EncodeMapLen(ct.count)
		}
		if err != nil {
			return err
		}
		for i := 0; i < ct.count; i++ {
			if i > 0 {
				j.space()
				if j.pos >= len(j.data) || j.data[j.pos] != ',' {
					return errBadJSON
				}
				j.pos++
			}
			if c == '{' {
				if err := j.value(); err != nil { // the key, a string
					return err
				}
				j.space()
				if j.pos >= len(j.data) || j.data[j.pos] != ':' {
					return errBadJSON
				}
				j.pos++
			}
			if err := j.value(); err != nil {
				return err
			}
		}
		j.space()
		if j.pos >= len(j.data) || (j.data[j.pos] != ']' && j.data[j.pos] != '}') {
			return errBadJSON
		}
		j.pos++
		return nil
	}
	end, err := j.token()
	if err != nil {
		return err
	}
	tok := j.data[j.pos:end]
	j.pos = end
	switch tok[0] {
	case '"':
		if bytes.IndexByte(tok, '\\') < 0 {
			return j.enc.EncodeString(string(tok[1 : len(tok)-1]))
		}
		var s string
		if err := json.Unmarshal(tok, &s); err != nil {
			return errBadJSON
		}
		return j.enc.EncodeString(s)
	case 't', 'f', 'n':
		switch string(tok) {
		case "true":
			return j.enc.EncodeBool(true)
		case "false":
			return j.enc.EncodeBool(false)
		case "null":
			return j.enc.EncodeNil()
		}
		return errBadJSON
	}
	return j.number(tok)
}

// number writes a JSON number as notepack.io writes the JavaScript
// number: an integral value as the smallest integer, anything else as a
// float64. Integers past 2^53 keep their exact value.
func (j *jsonToMsgpack) number(tok []byte) error {
	s := string(tok)
	if !bytes.ContainsAny(tok, ".eE") {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return j.enc.EncodeInt(n)
		}
		if n, err := strconv.ParseUint(s, 10, 64); err == nil {
			return j.enc.EncodeUint(n)
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return errBadJSON
	}
	if f == math.Trunc(f) && !math.IsInf(f, 0) {
		if f >= 0 && f < 1<<64 {
			return j.enc.EncodeUint(uint64(f))
		}
		if f < 0 && f >= -(1<<63) {
			return j.enc.EncodeInt(int64(f))
		}
	}
	return j.enc.EncodeFloat64(f)
}
