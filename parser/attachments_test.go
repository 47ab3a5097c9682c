package parser

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// binaryEvent returns the text of a BINARY_EVENT whose placeholders carry
// nums, in that order, and announces count attachments.
func binaryEvent(count int, nums ...int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `5%d-["e"`, count)
	for _, n := range nums {
		fmt.Fprintf(&b, `,{"_placeholder":true,"num":%d}`, n)
	}
	b.WriteString("]")
	return b.String()
}

// Packets with many attachments decode, whatever the order of their
// placeholders, and each placeholder resolves to its own attachment: the
// two-digit nums, and past 64 attachments the bitmap of seen nums spans
// several words.
func TestDecodeManyAttachments(t *testing.T) {
	for _, count := range []int{11, 64, 65, 130} {
		t.Run(fmt.Sprint(count), func(t *testing.T) {
			nums := rand.New(rand.NewPCG(1, uint64(count))).Perm(count)
			attachments := make([][]byte, count)
			for i := range attachments {
				attachments[i] = []byte{byte(i)}
			}
			d := Decoder{MaxAttachments: 200}
			p := decodeAll(t, &d, []byte(binaryEvent(count, nums...)), attachments)
			args, err := Reconstruct(p.Data, p.Attachments)
			if err != nil {
				t.Fatal(err)
			}
			got := args.([]any)[1:]
			for i, n := range nums {
				if !reflect.DeepEqual(got[i], []byte{byte(n)}) {
					t.Fatalf("placeholder %d (num %d) resolved to %v", i, n, got[i])
				}
			}
		})
	}
}

// A num shared by two placeholders is refused wherever it is, and two nums
// that differ by a multiple of 64 are not mistaken for one another.
func TestDecodeDuplicatePlaceholders(t *testing.T) {
	for _, tc := range []struct {
		count int
		nums  []int
		dup   bool
	}{
		{5, []int{0, 1, 3, 3, 4}, true},
		{5, []int{4, 0, 1, 2, 4}, true},
		{70, append(seq(0, 69), 66), false}, // count mismatch, not a duplicate
		{70, append(seq(0, 68), 66), true},
		{70, append(seq(0, 68), 5), true},
		{130, append(seq(0, 128), 129-64), true},
	} {
		text := binaryEvent(tc.count, tc.nums...)
		_, err := (&Decoder{MaxAttachments: 200}).AddText([]byte(text))
		if !errors.Is(err, ErrInvalidPacket) {
			t.Errorf("%d attachments, nums %v: error %v, want ErrInvalidPacket", tc.count, tc.nums, err)
			continue
		}
		if got := strings.Contains(err.Error(), "more than one placeholder"); got != tc.dup {
			t.Errorf("%d attachments, nums %v: error %q, want a duplicate: %v", tc.count, tc.nums, err, tc.dup)
		}
	}
	// 1 and 65, 2 and 66...: one bit apart in different words.
	nums := append(seq(64, 129), seq(0, 63)...)
	if _, err := (&Decoder{MaxAttachments: 200}).AddText([]byte(binaryEvent(130, nums...))); err != nil {
		t.Errorf("130 distinct nums: %v", err)
	}
}

func seq(from, to int) []int {
	var out []int
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

// The fast path for plain digit nums reads them as decimal numbers, as the
// general path does for every other spelling.
func TestPlaceholderNumSpellings(t *testing.T) {
	attachments := make([][]byte, 12)
	for i := range attachments {
		attachments[i] = []byte{byte(i)}
	}
	for _, num := range []string{"10", "10.0", "1e1", "1.0e1", "100e-1", "11", "1.1e1"} {
		raw := []byte(`[{"_placeholder":true,"num":` + num + `}]`)
		v, err := Reconstruct(raw, attachments)
		if err != nil {
			t.Errorf("num %s: %v", num, err)
			continue
		}
		want := byte(10)
		if num == "11" || num == "1.1e1" {
			want = 11
		}
		if got := v.([]any)[0]; !reflect.DeepEqual(got, []byte{want}) {
			t.Errorf("num %s resolved to %v, want attachment %d", num, got, want)
		}
	}
	for _, num := range []string{"12", "1000000000", "9999999999", "0.5", "-0", "-1"} {
		raw := []byte(`[{"_placeholder":true,"num":` + num + `}]`)
		v, err := Reconstruct(raw, attachments)
		if num == "-0" {
			// -0 is 0 for JSON.parse and for encoding/json alike.
			if err != nil || !reflect.DeepEqual(v.([]any)[0], []byte{0}) {
				t.Errorf("num -0: %v, %v", v, err)
			}
			continue
		}
		if !errors.Is(err, ErrInvalidPacket) {
			t.Errorf("num %s of 12 attachments: %v, %v; want ErrInvalidPacket", num, v, err)
		}
	}
}
