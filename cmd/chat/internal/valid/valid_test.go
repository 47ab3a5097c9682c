package valid

import (
	"errors"
	"strings"
	"testing"
)

// check runs one rule over a table: ok cases must pass, the others must
// fail with an *Error whose message contains want.
type tcase struct {
	name string
	in   string
	want string // "" = valid; else a fragment of the error message
}

func run(t *testing.T, rule func(string) error, cases []tcase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := rule(c.in)
			if c.want == "" {
				if err != nil {
					t.Fatalf("%q: unexpected error %v", c.in, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("%q: accepted, want error containing %q", c.in, c.want)
			}
			if !IsError(err) {
				t.Fatalf("%q: error %T is not a *valid.Error", c.in, err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("%q: error %q, want it to contain %q", c.in, err, c.want)
			}
		})
	}
}

func TestUsername(t *testing.T) {
	run(t, Username, []tcase{
		{"min length", "abc", ""},
		{"max length", "a" + strings.Repeat("b", UsernameMax-1), ""},
		{"digits underscore dash", "a1_b-2", ""},
		{"empty", "", "3 to 32"},
		{"too short", "ab", "3 to 32"},
		{"too long", strings.Repeat("a", UsernameMax+1), "3 to 32"},
		{"upper case", "Alice", "starts with a letter"},
		{"starts with digit", "1abc", "starts with a letter"},
		{"starts with underscore", "_abc", "starts with a letter"},
		{"starts with dash", "-abc", "starts with a letter"},
		{"space", "al ice", "only a-z"},
		{"dot", "al.ice", "only a-z"},
		{"at sign", "alice@x", "only a-z"},
		// Unicode: look-alikes and letters outside ASCII are refused, so
		// names cannot impersonate each other.
		{"accented", "josé", "only a-z"},
		{"cyrillic a", "\u0430lice", "only a-z"},
		{"kelvin sign", "\u212Aate", "only a-z"},
		{"emoji", "bob😀", "only a-z"},
		{"zero width space", "bo\u200bb", "only a-z"},
		{"nul", "bob\x00", "only a-z"},
		// Length counts bytes: 11 three-byte runes are 33 bytes.
		{"multibyte too long", strings.Repeat("日", 11), "3 to 32"},
		{"invalid utf8", "ab\xff", "only a-z"},
	})
}

func TestPassword(t *testing.T) {
	run(t, Password, []tcase{
		{"min", strings.Repeat("x", PasswordMin), ""},
		{"max", strings.Repeat("x", PasswordMax), ""},
		{"spaces count", "        ", ""},
		{"unicode", "pässwörd", ""},
		{"empty", "", "at least 8"},
		{"one short", strings.Repeat("x", PasswordMin-1), "at least 8"},
		{"one over", strings.Repeat("x", PasswordMax+1), "at most 128"},
		// The bounds are bytes: 4 two-byte runes are 8 bytes (enough),
		// 43 three-byte runes are 129 bytes (too many).
		{"multibyte at min", "éééé", ""},
		{"multibyte over max", strings.Repeat("日", 43), "at most 128"},
	})
}

func TestRoom(t *testing.T) {
	run(t, Room, []tcase{
		{"one char", "a", ""},
		{"one digit", "7", ""},
		{"max", strings.Repeat("r", RoomMax), ""},
		{"dash inside", "go-lang-2", ""},
		{"trailing dash", "go-", ""},
		{"empty", "", "1 to 32"},
		{"too long", strings.Repeat("r", RoomMax+1), "1 to 32"},
		{"leading dash", "-go", "does not start with '-'"},
		{"upper", "General", "only a-z"},
		{"underscore", "a_b", "only a-z"},
		{"space", "a b", "only a-z"},
		{"slash", "a/b", "only a-z"},
		{"unicode", "café", "only a-z"},
		{"fullwidth a", "\uff41", "only a-z"},
	})
}

func TestText(t *testing.T) {
	cases := []struct {
		name, in, out, want string
	}{
		{"plain", "hello", "hello", ""},
		{"trimmed", "  hi \n", "hi", ""},
		{"newline and tab inside", "a\n\tb", "a\n\tb", ""},
		{"unicode", "héllo 日本 😀", "héllo 日本 😀", ""},
		{"max runes", strings.Repeat("日", TextMax), strings.Repeat("日", TextMax), ""},
		{"max runes plus spaces", "  " + strings.Repeat("x", TextMax) + "  ", strings.Repeat("x", TextMax), ""},
		{"empty", "", "", "cannot be empty"},
		{"only space", " \n\t ", "", "cannot be empty"},
		{"one over", strings.Repeat("日", TextMax+1), "", "at most 2000"},
		{"invalid utf8", "a\xffb", "", "valid UTF-8"},
		{"bell", "a\ab", "", "control characters"},
		{"escape", "a\x1b[31mb", "", "control characters"},
		{"nul", "a\x00b", "", "control characters"},
		{"c1 control", "a\u0085b", "", "control characters"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := Text(c.in)
			if c.want == "" {
				if err != nil || out != c.out {
					t.Fatalf("Text(%q) = %q, %v; want %q", c.in, out, err, c.out)
				}
				return
			}
			if err == nil || !IsError(err) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Text(%q) error %v, want *Error containing %q", c.in, err, c.want)
			}
			if out != "" {
				t.Fatalf("Text(%q) returned %q with an error", c.in, out)
			}
		})
	}
}

func TestFileName(t *testing.T) {
	run(t, FileName, []tcase{
		{"plain", "cat.png", ""},
		{"unicode", "фото 日本.jpg", ""},
		{"dots inside", "a..b", ""},
		{"max bytes", strings.Repeat("f", FileNameMax), ""},
		{"empty", "", "1 to 200"},
		{"one over", strings.Repeat("f", FileNameMax+1), "1 to 200"},
		{"multibyte over", strings.Repeat("é", FileNameMax/2+1), "1 to 200"},
		{"invalid utf8", "a\xff.png", "1 to 200"},
		{"slash", "../etc/passwd", "path"},
		{"backslash", `..\boot.ini`, "path"},
		{"dot", ".", "path"},
		{"dotdot", "..", "path"},
		{"newline", "a\nb.png", "control"},
		{"nul", "a\x00.png", "control"},
	})
}

func TestFileSize(t *testing.T) {
	for _, c := range []struct {
		n    int
		want string
	}{
		{1, ""},
		{FileMax, ""},
		{0, "empty"},
		{FileMax + 1, "at most 5 MiB"},
	} {
		err := FileSize(c.n)
		if c.want == "" {
			if err != nil {
				t.Errorf("FileSize(%d): %v", c.n, err)
			}
			continue
		}
		if err == nil || !IsError(err) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("FileSize(%d) = %v, want *Error containing %q", c.n, err, c.want)
		}
	}
}

func TestIsError(t *testing.T) {
	if IsError(errors.New("disk full")) {
		t.Fatal("a plain error counted as a broken rule")
	}
	if IsError(nil) {
		t.Fatal("nil counted as a broken rule")
	}
	wrapped := errors.Join(errors.New("context"), Username(""))
	if !IsError(wrapped) {
		t.Fatal("a wrapped rule error not recognised")
	}
}
