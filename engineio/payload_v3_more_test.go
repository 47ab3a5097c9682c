package engineio

import (
	"errors"
	"strings"
	"testing"
)

// A continuation byte 0x80 (the lowest) counts for nothing: the
// character counts once, by its lead byte.
func TestUTF16LenContinuationBytes(t *testing.T) {
	for s, want := range map[string]int{"\u0080": 1, "À": 1, "\u0800": 1, "\U00010000": 2, "a\u0080À\u0800": 4} {
		if got := utf16Len([]byte(s)); got != want {
			t.Errorf("utf16Len(%q) = %d, want %d", s, got, want)
		}
	}
}

// Record lengths of up to ten digits, any of 0-9, are read in text and
// binary payloads; an eleventh digit is refused.
func TestPayloadV3LengthDigits(t *testing.T) {
	ok := []struct {
		body   string
		binary bool
		want   string
	}{
		{"9:4abcdefgh", false, `[message "abcdefgh"]`},
		{"19:4abcdefghijklmnopqr", false, `[message "abcdefghijklmnopqr"]`},
		{"0000000006:4hello", false, `[message "hello"]`},
		{"\x00\x09\xff4abcdefgh", true, `[message "abcdefgh"]`},
		{"\x00\x01\x09\xff4abcdefghijklmnopqr", true, `[message "abcdefghijklmnopqr"]`},
		{"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x06\xff4hello", true, `[message "hello"]`},
	}
	for _, tc := range ok {
		got, err := collectV3([]byte(tc.body), tc.binary)
		if err != nil || fmtPackets(got) != tc.want {
			t.Errorf("%q (binary %v): %s, %v; want %s", tc.body, tc.binary, fmtPackets(got), err, tc.want)
		}
	}
	for _, tc := range []struct {
		body   string
		binary bool
	}{
		{"00000000006:4hello", false},
		{"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x06\xff4hello", true},
	} {
		if _, err := collectV3([]byte(tc.body), tc.binary); !errors.Is(err, ErrInvalidPayload) {
			t.Errorf("%q (binary %v): err %v, want ErrInvalidPayload", tc.body, tc.binary, err)
		}
	}
}

// Binary payloads cut short: an empty text record (no type), and length
// digits running to the end of the body.
func TestPayloadV3BinaryTruncated(t *testing.T) {
	for _, b := range [][]byte{{0, 0, 0xff}, {0, 1, 2}, {1, 1}} {
		if _, err := collectV3(b, true); !errors.Is(err, ErrInvalidPayload) {
			t.Errorf("binary %v: err %v, want ErrInvalidPayload", b, err)
		}
	}
}

// A text record shorter than its length is reported as such, not as bad
// UTF-8.
func TestPayloadV3ShortRecordError(t *testing.T) {
	_, err := collectV3([]byte("5:4hi"), false)
	if !errors.Is(err, ErrInvalidPayload) || !strings.Contains(err.Error(), "shorter than its length 5") {
		t.Fatalf("err %v, want a record shorter than its length 5", err)
	}
}

// A binary payload's error names the record it is in, counted from 0.
func TestPayloadV3BinaryErrorNamesRecord(t *testing.T) {
	_, err := collectV3([]byte("\x00\x02\xff4a\x02"), true)
	if !errors.Is(err, ErrInvalidPayload) || !strings.Contains(err.Error(), "record 1:") {
		t.Fatalf("err %v, want one naming record 1", err)
	}
}
