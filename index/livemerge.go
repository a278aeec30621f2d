package index

// liveItem is one prepared event and where it sorts.
type liveItem[T any] struct {
	sec  int64
	nsec int32
	seq  int64 // the event's place in its file
	cost int
	v    T
}

func (a *liveItem[T]) before(b *liveItem[T]) bool {
	if a.sec != b.sec {
		return a.sec < b.sec
	}
	if a.nsec != b.nsec {
		return a.nsec < b.nsec
	}
	return a.seq < b.seq
}

// merge hands fn the files' events in time order, ties in the files'
// order (their paths').
func (r *liveRun[T]) merge(files []*liveFile[T], fn func(T) error) error {
	next := func(i int) bool {
		f := files[i]
		for len(f.cur) == 0 {
			select {
			case b, ok := <-f.out:
				if !ok {
					return false
				}
				f.cur = b
			case <-r.stop:
				return false
			}
		}
		return true
	}
	// heads is a min-heap of the files with events left, by their next.
	var heads []int
	less := func(a, b int) bool {
		x, y := &files[heads[a]].cur[0], &files[heads[b]].cur[0]
		if x.sec != y.sec {
			return x.sec < y.sec
		}
		if x.nsec != y.nsec {
			return x.nsec < y.nsec
		}
		return heads[a] < heads[b]
	}
	down := func(i int) {
		for {
			l := 2*i + 1
			if l >= len(heads) {
				return
			}
			m := l
			if r := l + 1; r < len(heads) && less(r, l) {
				m = r
			}
			if !less(m, i) {
				return
			}
			heads[i], heads[m] = heads[m], heads[i]
			i = m
		}
	}
	for i := range files {
		if next(i) {
			heads = append(heads, i)
		}
	}
	for i := len(heads)/2 - 1; i >= 0; i-- {
		down(i)
	}
	for len(heads) > 0 {
		if r.stopped() {
			return nil // the error is the run's
		}
		f := files[heads[0]]
		v := f.cur[0].v
		f.cur = f.cur[1:]
		if err := fn(v); err != nil {
			return err
		}
		if !next(heads[0]) {
			if r.stopped() {
				return nil
			}
			heads[0] = heads[len(heads)-1]
			heads = heads[:len(heads)-1]
		}
		down(0)
	}
	return nil
}

// liveWindow is a min-heap of one file's events by time, then place.
type liveWindow[T any] struct {
	items []liveItem[T]
	cost  int
}

func (w *liveWindow[T]) push(it liveItem[T]) {
	w.items = append(w.items, it)
	w.cost += it.cost
	i := len(w.items) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !w.items[i].before(&w.items[p]) {
			break
		}
		w.items[i], w.items[p] = w.items[p], w.items[i]
		i = p
	}
}

func (w *liveWindow[T]) pop() liveItem[T] {
	top := w.items[0]
	last := len(w.items) - 1
	w.items[0] = w.items[last]
	var zero liveItem[T]
	w.items[last] = zero // the event is not kept alive by the window's array
	w.items = w.items[:last]
	w.cost -= top.cost
	for i := 0; ; {
		l := 2*i + 1
		if l >= len(w.items) {
			break
		}
		m := l
		if r := l + 1; r < len(w.items) && w.items[r].before(&w.items[l]) {
			m = r
		}
		if !w.items[m].before(&w.items[i]) {
			break
		}
		w.items[i], w.items[m] = w.items[m], w.items[i]
		i = m
	}
	return top
}
