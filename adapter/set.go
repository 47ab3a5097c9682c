package adapter

// set is a set of strings that keeps its first member inline. In a
// Socket.IO server most rooms have one member (every socket's own room)
// and most sockets are in one or two rooms: a map per set would cost about
// 200 bytes each, for every connection, twice. Sets are values, stored
// in maps and written back after a change.
type set struct {
	one  string              // a member, when has
	has  bool                // one is a member ("" is a valid room name)
	more map[string]struct{} // the other members; nil when there are none
}

func (s set) contains(x string) bool {
	if s.has && s.one == x {
		return true
	}
	_, ok := s.more[x]
	return ok
}

func (s set) len() int {
	n := len(s.more)
	if s.has {
		n++
	}
	return n
}

// add reports whether x was not a member yet.
func (s *set) add(x string) bool {
	switch {
	case s.contains(x):
		return false
	case !s.has:
		s.one, s.has = x, true
	default:
		if s.more == nil {
			s.more = make(map[string]struct{}, 1)
		}
		s.more[x] = struct{}{}
	}
	return true
}

func (s *set) del(x string) {
	if !s.has || s.one != x {
		delete(s.more, x)
		if len(s.more) == 0 {
			s.more = nil
		}
		return
	}
	// Refill the inline slot from the map, if it holds anyone.
	s.one, s.has = "", false
	for y := range s.more {
		s.one, s.has = y, true
		delete(s.more, y)
		break
	}
	if len(s.more) == 0 {
		s.more = nil
	}
}

// all yields every member once, in no particular order.
func (s set) all(yield func(string) bool) {
	if s.has && !yield(s.one) {
		return
	}
	for x := range s.more {
		if !yield(x) {
			return
		}
	}
}
