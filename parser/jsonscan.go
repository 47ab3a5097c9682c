package parser

import (
	"encoding/json"
	"fmt"
)

// maxNesting bounds how deeply arrays and objects may nest. It equals the
// limit of encoding/json, so anything this scanner accepts can also be
// decoded by encoding/json, and it keeps the recursive descent below from
// being driven arbitrarily deep by hostile input.
const maxNesting = 10000

// scanner is a validating, allocation-free JSON walker.
//
// encoding/json can validate (json.Valid) or decode, but decoding allocates
// a value for every node, and validation says nothing about structure. The
// decoder needs a little structure for each packet (the first element of an
// event, the placeholders of a binary packet) without paying for a full
// decode, so this walker validates and records exactly that in one pass.
// It accepts the same language as json.Valid; the fuzz tests check this.
type scanner struct {
	data  []byte
	pos   int
	depth int

	// collect turns on placeholder detection; detected placeholders are
	// appended to holes.
	collect bool
	holes   []hole

	// firstStart and firstEnd delimit the first element of the top-level
	// array; firstEnd == 0 when there is none.
	firstStart, firstEnd int

	// split makes the scanner append every element of the top-level array
	// to elems.
	split bool
	elems []json.RawMessage
}

// hole is an attachment placeholder found in a payload.
type hole struct {
	start, end int    // byte span of the whole placeholder object
	num        []byte // raw JSON number of its "num" member; nil when absent or not a number
}

func (s *scanner) fail(what string) error {
	return invalidf("invalid JSON at offset %d: %s", s.pos, what)
}

// whole scans one JSON value that must make up all of s.data, apart from
// surrounding whitespace.
func (s *scanner) whole() error {
	s.skipSpace()
	if err := s.value(); err != nil {
		return err
	}
	s.skipSpace()
	if s.pos != len(s.data) {
		return s.fail("data after the JSON value")
	}
	return nil
}

func (s *scanner) skipSpace() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

func (s *scanner) value() error {
	if s.pos >= len(s.data) {
		return s.fail("unexpected end of input")
	}
	switch c := s.data[s.pos]; c {
	case '{':
		return s.object()
	case '[':
		return s.array()
	case '"':
		_, err := s.str()
		return err
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	default:
		if c == '-' || isDigit(c) {
			return s.number()
		}
	}
	return s.fail(fmt.Sprintf("unexpected character %q", s.data[s.pos]))
}

func (s *scanner) literal(word string) error {
	if len(s.data)-s.pos < len(word) || string(s.data[s.pos:s.pos+len(word)]) != word {
		return s.fail("invalid literal")
	}
	s.pos += len(word)
	return nil
}

// number scans -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) number() error {
	d, i := s.data, s.pos
	if d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && isDigit(d[i]):
		i = skipDigits(d, i)
	default:
		s.pos = i
		return s.fail("invalid number")
	}
	if i < len(d) && d[i] == '.' {
		j := skipDigits(d, i+1)
		if j == i+1 {
			s.pos = j
			return s.fail("missing digits after decimal point")
		}
		i = j
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		j := skipDigits(d, i)
		if j == i {
			s.pos = j
			return s.fail("missing digits in exponent")
		}
		i = j
	}
	s.pos = i
	return nil
}

func skipDigits(d []byte, i int) int {
	for i < len(d) && isDigit(d[i]) {
		i++
	}
	return i
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHex(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// str scans a string starting at its opening quote and reports whether it
// contains escapes (which callers comparing its content must decode).
// Like encoding/json it does not insist on valid UTF-8.
func (s *scanner) str() (escaped bool, err error) {
	d := s.data
	i := s.pos + 1
	for i < len(d) {
		c := d[i]
		switch {
		case c == '"':
			s.pos = i + 1
			return escaped, nil
		case c == '\\':
			escaped = true
			if i+1 >= len(d) {
				i++
				continue // reported as unterminated below
			}
			switch d[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if len(d)-i < 6 || !isHex(d[i+2]) || !isHex(d[i+3]) || !isHex(d[i+4]) || !isHex(d[i+5]) {
					s.pos = i
					return false, s.fail("invalid \\u escape")
				}
				i += 6
			default:
				s.pos = i
				return false, s.fail("invalid escape")
			}
		case c < 0x20:
			s.pos = i
			return false, s.fail("control character in string")
		default:
			i++
		}
	}
	s.pos = len(d)
	return false, s.fail("unterminated string")
}

func (s *scanner) enter() error {
	s.depth++
	if s.depth > maxNesting {
		return s.fail("nesting too deep")
	}
	return nil
}

func (s *scanner) array() error {
	if err := s.enter(); err != nil {
		return err
	}
	top := s.depth == 1
	s.pos++ // '['
	s.skipSpace()
	if s.pos < len(s.data) && s.data[s.pos] == ']' {
		s.pos++
		s.depth--
		return nil
	}
	for first := true; ; first = false {
		s.skipSpace()
		start := s.pos
		if err := s.value(); err != nil {
			return err
		}
		if top {
			if first {
				s.firstStart, s.firstEnd = start, s.pos
			}
			if s.split {
				// Cap the capacity so that appending to one element cannot
				// overwrite the next.
				s.elems = append(s.elems, s.data[start:s.pos:s.pos])
			}
		}
		s.skipSpace()
		if s.pos >= len(s.data) {
			return s.fail("unterminated array")
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case ']':
			s.pos++
			s.depth--
			return nil
		default:
			return s.fail("expected ',' or ']' in array")
		}
	}
}

// Keys that make an object a placeholder.
const (
	keyOther = iota
	keyPlaceholder
	keyNum
)

func (s *scanner) object() error {
	if err := s.enter(); err != nil {
		return err
	}
	start := s.pos
	mark := len(s.holes)
	// As with JSON.parse in the reference and encoding/json into a map, a
	// repeated key takes the last value, so only the last one counts.
	isPlaceholder := false
	var num []byte
	s.pos++ // '{'
	s.skipSpace()
	if s.pos < len(s.data) && s.data[s.pos] == '}' {
		s.pos++
		s.depth--
		return nil
	}
	for {
		s.skipSpace()
		if s.pos >= len(s.data) || s.data[s.pos] != '"' {
			return s.fail("expected string key in object")
		}
		keyStart := s.pos
		escaped, err := s.str()
		if err != nil {
			return err
		}
		key := s.data[keyStart:s.pos]
		s.skipSpace()
		if s.pos >= len(s.data) || s.data[s.pos] != ':' {
			return s.fail("expected ':' after object key")
		}
		s.pos++
		s.skipSpace()
		valStart := s.pos
		if err := s.value(); err != nil {
			return err
		}
		if s.collect {
			val := s.data[valStart:s.pos]
			switch classifyKey(key, escaped) {
			case keyPlaceholder:
				isPlaceholder = string(val) == "true"
			case keyNum:
				num = nil
				if val[0] == '-' || isDigit(val[0]) {
					num = val
				}
			}
		}
		s.skipSpace()
		if s.pos >= len(s.data) {
			return s.fail("unterminated object")
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case '}':
			s.pos++
			s.depth--
			if isPlaceholder {
				// The reference replaces the whole object by the attachment
				// and never looks inside it, so placeholders nested in a
				// placeholder do not count.
				s.holes = append(s.holes[:mark], hole{start: start, end: s.pos, num: num})
			}
			return nil
		default:
			return s.fail("expected ',' or '}' in object")
		}
	}
}

// classifyKey tells whether a raw, quoted object key is one of the two keys
// of a placeholder. Escaped keys are decoded so that "\u005fplaceholder" is
// recognised exactly as JSON.parse would; they are rare, so the allocation
// does not matter.
func classifyKey(raw []byte, escaped bool) int {
	if escaped {
		var k string
		if err := json.Unmarshal(raw, &k); err != nil {
			return keyOther
		}
		return keyKind(k)
	}
	// Switching on the converted bytes directly lets the compiler skip the
	// string allocation.
	switch string(raw[1 : len(raw)-1]) {
	case "_placeholder":
		return keyPlaceholder
	case "num":
		return keyNum
	}
	return keyOther
}

func keyKind(k string) int {
	switch k {
	case "_placeholder":
		return keyPlaceholder
	case "num":
		return keyNum
	}
	return keyOther
}
