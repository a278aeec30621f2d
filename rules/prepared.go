package rules

import (
	"sync"

	"github.com/exfiltrace/exfiltrace/event"
)

// Prepared is a stored event decoded and tested against every rule that
// applies to it. Testing needs nothing of the stream's order, so Prepare
// runs on every core; ProcessPrepared then does, in time order, what only
// order allows: findings, correlation windows, baselines.
type Prepared struct {
	Event   *event.Event
	matched []*compiled // in the order Process tests them
	// sources are the event's logsource keys, placed once for Prepare and
	// ProcessPrepared: placing reads several fields of the event's map.
	sources []string
	room    [4]string // sources' first room, allocated with the Prepared
}

// views are the matching views of the goroutines that call Prepare.
var views = sync.Pool{New: func() any { return new(view) }}

// recycled are prepared events handed back (Recycle), for Prepare to decode
// into again: their maps are reused instead of allocated and collected by
// the million.
var recycled sync.Pool

// Prepare decodes one stored event (as Decode) and tests the rules on it.
// Safe for concurrent use.
func (e *Engine) Prepare(doc []byte) (*Prepared, error) {
	p, _ := recycled.Get().(*Prepared)
	if p == nil {
		p = &Prepared{}
		p.sources = p.room[:0]
	}
	ev, whole, err := e.decodeInto(p.Event, doc, &p.sources)
	if err != nil {
		return nil, err
	}
	return e.prepare(p, ev, !whole && (e.keywordAny != nil || len(e.keywordKeys) > 0)), nil
}

// Recycle hands back a prepared event its caller is done with, after
// ProcessPrepared: the engine keeps nothing of an event but copies of its
// values (refOf), so the next Prepare may decode into it. The caller must
// not use p or its event afterwards.
func (e *Engine) Recycle(p *Prepared) { recycled.Put(p) }

// PrepareEvent tests the rules on an event decoded by the caller. Safe for
// concurrent use.
func (e *Engine) PrepareEvent(ev *event.Event) *Prepared {
	p, _ := recycled.Get().(*Prepared)
	if p == nil {
		p = &Prepared{}
	}
	p.sources = eventLogsources(ev, p.room[:0])
	return e.prepare(p, ev, false)
}

// prepare tests the rules on ev, placed in p.sources, into p; noKeyword
// says that no keyword list can match it, as the gate of its stored
// document found (decode).
func (e *Engine) prepare(p *Prepared, ev *event.Event, noKeyword bool) *Prepared {
	v := views.Get().(*view)
	v.point(ev, p.sources)
	v.noKeyword = noKeyword
	p.Event, p.matched = ev, p.matched[:0]
	e.applicable(v, func(c *compiled) {
		if c.m.match(v) {
			p.matched = append(p.matched, c)
		}
	})
	v.release()
	views.Put(v)
	return p
}

// ProcessPrepared is Process for a prepared event: same findings, same
// correlation state. Prepared events must arrive in time order.
func (e *Engine) ProcessPrepared(p *Prepared) {
	v := e.begin(p.Event, p.sources)
	matched := p.matched
	e.applicable(v, func(c *compiled) {
		if len(matched) > 0 && matched[0] == c {
			matched = matched[1:]
			e.apply(c, v)
		}
	})
}
