package engineio

import (
	"errors"
	"strings"
	"testing"
)

// A text payload's error names the record it is in, counted from 0, as a
// binary payload's does: the second record here is shorter than its length.
func TestPayloadV3TextErrorNamesRecord(t *testing.T) {
	got, err := collectV3([]byte("2:4a5:4hi"), false)
	if len(got) != 1 {
		t.Fatalf("%d packets delivered before the error, want the first record's", len(got))
	}
	if !errors.Is(err, ErrInvalidPayload) || !strings.Contains(err.Error(), "record 1: shorter than its length 5") {
		t.Fatalf("err %v, want record 1 shorter than its length 5", err)
	}
}
