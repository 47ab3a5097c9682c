package engineio

import (
	"net/url"
	"strings"
	"testing"
)

// lastOf is the reference reading of a parameter: url.ParseQuery's, the
// last value of one given more than once.
func lastOf(raw, name string) string {
	q, _ := url.ParseQuery(raw)
	if vs := q[name]; len(vs) > 0 {
		return vs[len(vs)-1]
	}
	return ""
}

func checkReadQuery(t *testing.T, raw string) {
	t.Helper()
	got := readQuery(raw)
	want := engineQuery{eio: lastOf(raw, "EIO"), transport: lastOf(raw, "transport"), sid: lastOf(raw, "sid"), b64: lastOf(raw, "b64")}
	if got != want {
		t.Errorf("readQuery(%q) = %+v, want %+v (url.ParseQuery's)", raw, got, want)
	}
}

func TestReadQueryAsParseQuery(t *testing.T) {
	for _, raw := range []string{
		"",
		"EIO=4&transport=polling&t=ABC",
		"EIO=4&transport=polling&sid=abc-_123&t=x",
		"EIO=4&EIO=3",
		"transport=polling&transport=websocket",
		"EIO=4&transport=websocket&sid=a%2Bb",
		"EIO=4&transport=polling&sid=a+b",
		"E%49O=4&tr%61nsport=polling",
		"EIO=4&transport=polling&sid=%zz",           // bad escape: the pair is skipped
		"EIO=3&EIO=%zz",                             // the earlier value stays
		"EIO=4;transport=polling",                   // semicolons: skipped
		"EIO=4&transport=polling;x&sid=s",           // the pair with one only
		"&&EIO=4&&transport=websocket&&",            // empty pairs
		"EIO&transport=&sid",                        // no '=' or no value
		"EIO=4&b64=1", "EIO=3&b64=&b64=true", "b64", // b64 present, empty or not
		"EIO=4=5&transport==polling", // '=' in a value
		strings.Repeat("x=1&", maxQueryParams-1) + "EIO=4",
		strings.Repeat("x=1&", maxQueryParams) + "EIO=4", // over net/url's bound: nothing
	} {
		checkReadQuery(t, raw)
	}
}

func FuzzReadQuery(f *testing.F) {
	for _, s := range []string{"EIO=4&transport=polling&t=ABC&sid=x", "EIO=3&EIO=%zz;&b64=1", "tr%61nsport=web+socket"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		checkReadQuery(t, raw)
	})
}
