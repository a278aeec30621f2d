package index

import "sync"

// InflightBytes bounds the stored size of the events between the parsers and
// the stores. The queues between them hold a number of events (thousands, so
// that small firewall lines keep every core busy); events of 45 KB
// (PowerShell script blocks) made those queues hold 300 MB.
const InflightBytes = 32 << 20

// inflight is a byte budget: a parser waits for room before it hands on an
// event, and whoever is last done with the event gives its bytes back. One
// event larger than the whole budget still passes, alone.
type inflight struct {
	mu    sync.Mutex
	room  *sync.Cond
	used  int
	limit int
}

func newInflight(limit int) *inflight {
	f := &inflight{limit: limit}
	f.room = sync.NewCond(&f.mu)
	return f
}

func (f *inflight) acquire(n int) {
	f.mu.Lock()
	for f.used > 0 && f.used+n > f.limit {
		f.room.Wait()
	}
	f.used += n
	f.mu.Unlock()
}

func (f *inflight) release(n int) {
	if n == 0 {
		return
	}
	f.mu.Lock()
	f.used -= n
	f.mu.Unlock()
	f.room.Broadcast()
}
