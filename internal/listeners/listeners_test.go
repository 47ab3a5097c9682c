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
	runAll := func(name string) {
		anys, named := r.Take(name)
		for _, fn := range anys {
			fn(name)
		}
		for _, fn := range named {
			fn(name)
		}
	}
	runAll("a")
	runAll("a")
	runAll("b")
	want := []string{"any:a", "on1:a", "once:a", "on2:a", "any:a", "on1:a", "on2:a", "any:b"}
	if !slices.Equal(log, want) {
		t.Fatalf("got %v\nwant %v", log, want)
	}
	r.Off("a")
	r.OffAny()
	if anys, named := r.Take("a"); len(anys)+len(named) != 0 {
		t.Fatalf("%d handlers after Off", len(anys)+len(named))
	}
	r.Once("c", rec("c"))
	r.Take("c")
	if r.find("c") >= 0 {
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
				_, named := r.Take("x")
				for _, fn := range named {
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

func TestTakeDoesNotAllocate(t *testing.T) {
	var r Registry[int]
	r.On("x", func(int) {})
	r.OnAny(func(int) {})
	if n := testing.AllocsPerRun(100, func() { r.Take("x") }); n != 0 {
		t.Fatalf("Take allocates %v times", n)
	}
}

func TestSharedListsStayIntact(t *testing.T) {
	var r Registry[int]
	var calls []int
	r.On("x", func(int) { calls = append(calls, 1) })
	_, named := r.Take("x")
	r.On("x", func(int) { calls = append(calls, 2) }) // must not write into named
	r.Off("x")
	for _, fn := range named {
		fn(0)
	}
	if !slices.Equal(calls, []int{1}) {
		t.Fatalf("calls %v", calls)
	}
}
