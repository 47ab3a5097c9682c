package listeners

import (
	"slices"
	"sync"
	"testing"
)

func TestOrderOnceOff(t *testing.T) {
	var r Registry[string]
	var log []string
	rec := func(tag string) func(string) { return func(ev string) { log = append(log, tag+":"+ev) } }
	r.On("a", rec("on1"))
	r.Once("a", rec("once"))
	r.On("a", rec("on2"))
	r.OnAny(rec("any"))
	for _, fn := range r.Take("a") {
		fn("a")
	}
	for _, fn := range r.Take("a") {
		fn("a")
	}
	for _, fn := range r.Take("b") {
		fn("b")
	}
	want := []string{"any:a", "on1:a", "once:a", "on2:a", "any:a", "on1:a", "on2:a", "any:b"}
	if !slices.Equal(log, want) {
		t.Fatalf("got %v\nwant %v", log, want)
	}
	r.Off("a")
	r.OffAny()
	if n := len(r.Take("a")); n != 0 {
		t.Fatalf("%d handlers after Off", n)
	}
	r.Once("c", rec("c"))
	r.Take("c")
	if _, ok := r.byName["c"]; ok {
		t.Fatal("name kept after its last once-handler ran")
	}
}

func TestConcurrentUse(t *testing.T) {
	var r Registry[int]
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				r.On("x", func(int) {})
				r.Once("x", func(int) {})
				for _, fn := range r.Take("x") {
					fn(i)
				}
				if i%100 == 0 {
					r.Off("x")
				}
			}
		}()
	}
	wg.Wait()
}
