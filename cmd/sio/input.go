package main

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// inputSyntax is the part of the usage text that explains input lines;
// parseLine implements it.
const inputSyntax = `Input, one event per line:
  NAME [ARGS]                   the event name is the first word
  "NAME WITH SPACES" [ARGS]     a JSON string first: the name may hold spaces
  ["NAME", ARG, ...]            a JSON array: the name, then each argument
ARGS is a JSON array (the argument list), another JSON value (one
argument), or text that is not JSON (one string argument).
{"$binary":"<base64>"} sends bytes. Empty lines and lines starting with #
are skipped. A line that does not parse is reported on stderr, not sent.

Examples:
  "chat message" hello          event "chat message", argument "hello"
  ["chat message", "hello"]     the same
  chat message hello            event "chat", argument "message hello"
  move {"x": 1, "y": 2}         one object argument
  add [1, 2]                    two arguments, 1 and 2
  add [[1, 2]]                  one argument, the array [1, 2]
  say "42"                      the string "42" (say 42 sends a number)
  file {"$binary": "AQID"}      the bytes 01 02 03
  ping                          no argument
`

// parseLine reads one input line (see inputSyntax). skip is true for a
// line to ignore: empty, or a comment.
func parseLine(text string) (event string, args []any, skip bool, err error) {
	text = strings.TrimSpace(text)
	if text == "" || strings.HasPrefix(text, "#") {
		return "", nil, true, nil
	}
	switch text[0] {
	case '[':
		var list []any
		if err := decodeWhole(text, &list); err != nil {
			return "", nil, false, fmt.Errorf("a line starting with [ must be a JSON array [\"NAME\", ARG, ...]: %v", err)
		}
		if len(list) == 0 {
			return "", nil, false, errors.New("the JSON array is empty: it needs the event name first")
		}
		name, ok := list[0].(string)
		if !ok {
			return "", nil, false, fmt.Errorf("the JSON array must start with the event name, a string, not %s", jsonText(list[0]))
		}
		event, args = name, fromPrintable(list[1:]).([]any)
		if len(args) == 0 {
			args = nil
		}
	case '"':
		d := json.NewDecoder(strings.NewReader(text))
		if err := d.Decode(&event); err != nil {
			return "", nil, false, fmt.Errorf("a line starting with \" must start with the event name as a JSON string: %v", err)
		}
		rest := text[d.InputOffset():]
		if rest != "" && !unicode.IsSpace(rune(rest[0])) {
			return "", nil, false, fmt.Errorf("a space must follow the quoted event name %q", event)
		}
		args = parseArgs(strings.TrimSpace(rest))
	default:
		rest := ""
		if i := strings.IndexFunc(text, unicode.IsSpace); i >= 0 {
			text, rest = text[:i], text[i:]
		}
		event, args = text, parseArgs(strings.TrimSpace(rest))
	}
	if event == "" {
		return "", nil, false, errors.New("the event name is empty")
	}
	return event, args, false, nil
}

// parseArgs reads the arguments of an input line: a JSON array is the
// list, another JSON value one argument, anything else one string.
func parseArgs(rest string) []any {
	if rest == "" {
		return nil
	}
	var v any
	if decodeWhole(rest, &v) != nil {
		return []any{rest}
	}
	v = fromPrintable(v)
	if list, ok := v.([]any); ok {
		return list
	}
	return []any{v}
}

// decodeWhole decodes text, which must hold one JSON value and nothing
// else, keeping numbers exact (json.Number), so that big integers are
// sent as typed.
func decodeWhole(text string, v any) error {
	d := json.NewDecoder(strings.NewReader(text))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return err
	}
	if rest := strings.TrimSpace(text[d.InputOffset():]); rest != "" {
		return fmt.Errorf("text follows the JSON value: %q", rest)
	}
	return nil
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// printable replaces []byte values by {"$binary": base64}, recursively,
// in place.
func printable(v any) any {
	switch x := v.(type) {
	case []byte:
		return map[string]any{"$binary": base64.StdEncoding.EncodeToString(x)}
	case []any:
		for i, e := range x {
			x[i] = printable(e)
		}
	case map[string]any:
		for k, e := range x {
			x[k] = printable(e)
		}
	}
	return v
}

// fromPrintable is the inverse of printable, for input.
func fromPrintable(v any) any {
	switch x := v.(type) {
	case []any:
		for i, e := range x {
			x[i] = fromPrintable(e)
		}
	case map[string]any:
		if b64, ok := x["$binary"].(string); ok && len(x) == 1 {
			if b, err := base64.StdEncoding.DecodeString(b64); err == nil {
				return b
			}
		}
		for k, e := range x {
			x[k] = fromPrintable(e)
		}
	}
	return v
}
