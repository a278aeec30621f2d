package index

import "github.com/exfiltrace/exfiltrace/event"

// asyncSink runs an EventSink on its own goroutine, so writing a second
// store (the columnar one) overlaps writing the event store and the index
// instead of adding to them. FileDone waits for the file's events to be
// written: the manifest lists a file only after every store has it.
type asyncSink struct {
	sink   EventSink
	budget *inflight // given back each event's bytes once written
	ch     chan sinkItem
	err    error // first error, read after a FilesDone or Close handshake
	done   chan struct{}
}

type sinkItem struct {
	ev    *event.Event
	loc   string
	done  []FileMark
	cost  int        // the event's share of the in-flight budget
	reply chan error // set for FilesDone
}

func newAsyncSink(s EventSink, budget *inflight) *asyncSink {
	// 1,024 queued events keep both writers busy: on 1 M FortiGate lines
	// 4,096 was no faster (84 s against 86 s) and held ~40 MiB more; none
	// (writing in line) took 96 s.
	a := &asyncSink{sink: s, budget: budget, ch: make(chan sinkItem, 1024), done: make(chan struct{})}
	go func() {
		defer close(a.done)
		for it := range a.ch {
			if it.reply != nil {
				if a.err == nil {
					a.err = a.sink.FilesDone(it.done)
				}
				it.reply <- a.err
				continue
			}
			if a.err == nil {
				a.err = a.sink.Add(it.ev, it.loc)
			}
			a.budget.release(it.cost)
		}
	}()
	return a
}

// add queues an event; an error surfaces at the file's end.
func (a *asyncSink) add(ev *event.Event, loc string, cost int) {
	a.ch <- sinkItem{ev: ev, loc: loc, cost: cost}
}

func (a *asyncSink) FilesDone(done []FileMark) error {
	reply := make(chan error, 1)
	a.ch <- sinkItem{done: done, reply: reply}
	return <-reply
}

// close waits for what is queued; the sink itself stays open.
func (a *asyncSink) close() {
	close(a.ch)
	<-a.done
}
