package parsers

import (
	"sort"
	"strings"
)

// openMessages are a mail log's messages (or its connections) not yet
// complete, by id, in the order they began. A log whose messages never
// reach their last line (cut short, lines lost) must not hold them all:
// past maxPendingMessages the oldest is emitted as it stands. Ids are kept as copies, and the list
// of their order is compacted, so that what is held follows the messages
// open, not the log's length: an id cut from its line kept the whole line.
type openMessages[M any] struct {
	byID  map[string]openEntry[M]
	order []openRef     // in the order they began; some already done
	first func(M) int64 // the line a message began on
	seq   uint64
}

type openEntry[M any] struct {
	m   M
	seq uint64
}

// openRef names one opening of an id: a queue id used again later (a
// server's queue ids wrap) is another message.
type openRef struct {
	id  string
	seq uint64
}

func newOpenMessages[M any](first func(M) int64) openMessages[M] {
	return openMessages[M]{byID: map[string]openEntry[M]{}, first: first}
}

func (o *openMessages[M]) get(id string) (M, bool) {
	e, ok := o.byID[id]
	return e.m, ok
}

func (o *openMessages[M]) len() int { return len(o.byID) }

// add opens a message, emitting the oldest still open when too many are.
func (o *openMessages[M]) add(id string, m M, emit func(M)) {
	id = strings.Clone(id)
	o.seq++
	o.byID[id] = openEntry[M]{m, o.seq}
	o.order = append(o.order, openRef{id, o.seq})
	if len(o.byID) > maxPendingMessages {
		o.evictOldest(emit)
	}
	if len(o.order) > 2*len(o.byID)+1024 {
		kept := o.order[:0]
		for _, r := range o.order {
			if o.live(r) {
				kept = append(kept, r)
			}
		}
		clear(o.order[len(kept):])
		o.order = kept
	}
}

func (o *openMessages[M]) live(r openRef) bool {
	e, ok := o.byID[r.id]
	return ok && e.seq == r.seq
}

// done forgets a message its log has completed (emitted by the caller).
func (o *openMessages[M]) done(id string) { delete(o.byID, id) }

func (o *openMessages[M]) evictOldest(emit func(M)) {
	for len(o.order) > 0 {
		r := o.order[0]
		o.order = o.order[1:]
		if o.live(r) {
			m := o.byID[r.id].m
			delete(o.byID, r.id)
			emit(m)
			return
		}
	}
}

// drain emits the messages still open at the end of the file, in the order
// they began (a map's order would change from one run to the next).
func (o *openMessages[M]) drain(emit func(M)) {
	rest := make([]M, 0, len(o.byID))
	for _, e := range o.byID {
		rest = append(rest, e.m)
	}
	sort.Slice(rest, func(i, j int) bool { return o.first(rest[i]) < o.first(rest[j]) })
	clear(o.byID)
	o.order = nil
	for _, m := range rest {
		emit(m)
	}
}
