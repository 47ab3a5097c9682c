// Package valid holds the chat's input rules, the same for the HTTP API,
// the Socket.IO events and the plain WebSocket bridge, so that a rule is
// written once and its error reads the same everywhere.
package valid

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of the chat's input.
const (
	UsernameMin = 3
	UsernameMax = 32
	PasswordMin = 8   // bytes
	PasswordMax = 128 // bytes: argon2id hashes all of it; a bound keeps that cheap
	RoomMin     = 1
	RoomMax     = 32
	TextMax     = 2000    // characters of one message
	FileNameMax = 200     // bytes
	FileMax     = 5 << 20 // bytes of one image or file
	PageMax     = 100     // messages of one history page
)

// Error is a rule that input broke; its message is meant for the user.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

func fail(format string, a ...any) error { return &Error{Msg: fmt.Sprintf(format, a...)} }

// IsError reports whether err is a broken rule (as opposed to a failure of
// the server).
func IsError(err error) bool {
	var e *Error
	return errors.As(err, &e)
}

// Username checks a user name: 3 to 32 characters, lower-case ASCII
// letters, digits, '_' and '-', starting with a letter.
func Username(s string) error {
	if len(s) < UsernameMin || len(s) > UsernameMax {
		return fail("a user name has %d to %d characters", UsernameMin, UsernameMax)
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z':
		case i > 0 && (r >= '0' && r <= '9' || r == '_' || r == '-'):
		default:
			return fail("a user name starts with a letter and has only a-z, 0-9, '_' and '-'")
		}
	}
	return nil
}

// Password checks a password's length: 8 to 128 bytes.
func Password(s string) error {
	if len(s) < PasswordMin {
		return fail("a password has at least %d characters", PasswordMin)
	}
	if len(s) > PasswordMax {
		return fail("a password has at most %d bytes", PasswordMax)
	}
	return nil
}

// Room checks a room name: 1 to 32 characters, lower-case ASCII letters,
// digits and '-', starting with a letter or digit.
func Room(s string) error {
	if len(s) < RoomMin || len(s) > RoomMax {
		return fail("a room name has %d to %d characters", RoomMin, RoomMax)
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
		case i > 0 && r == '-':
		default:
			return fail("a room name has only a-z, 0-9 and '-', and does not start with '-'")
		}
	}
	return nil
}

// Text checks and trims a message's text: valid UTF-8, 1 to 2000
// characters after trimming white space, no control characters but
// newline and tab.
func Text(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", fail("a message must be valid UTF-8")
	}
	s = strings.TrimSpace(s)
	n := utf8.RuneCountInString(s)
	if n == 0 {
		return "", fail("a message cannot be empty")
	}
	if n > TextMax {
		return "", fail("a message has at most %d characters", TextMax)
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			return "", fail("a message cannot hold control characters")
		}
	}
	return s, nil
}

// FileName checks an attachment's name: 1 to 200 bytes of valid UTF-8,
// no path separators or control characters.
func FileName(s string) error {
	if s == "" || len(s) > FileNameMax || !utf8.ValidString(s) {
		return fail("a file name has 1 to %d bytes of UTF-8", FileNameMax)
	}
	if strings.ContainsAny(s, `/\`) || s == "." || s == ".." {
		return fail("a file name cannot hold a path")
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return fail("a file name cannot hold control characters")
		}
	}
	return nil
}

// FileSize checks an attachment's size.
func FileSize(n int) error {
	if n == 0 {
		return fail("the file is empty")
	}
	if n > FileMax {
		return fail("a file has at most %d MiB", FileMax>>20)
	}
	return nil
}
