package rules

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

type corrState struct {
	rule       *Rule
	typ        string
	base       []any // *compiled or *corrState
	dependents []*corrState
	emit       bool
	groupBy    []string
	span       time.Duration
	field      string
	op         string
	n          float64
	groups     map[string]*window
	key        []byte // the group-by values of the event observed, reused
	// oldest and newest end the groups' list in the order they last saw a
	// hit: the stream is in time order, so groups whose newest hit left the
	// window are at its old end, and are dropped from there at each hit.
	oldest, newest *window
	seen           map[string]bool // new_value: values seen so far
	streamStart    *time.Time      // new_value: the baseline runs from the stream's first event
}

type hit struct {
	t     time.Time
	val   string
	num   float64
	which int    // index of the base rule (temporal)
	ref   *evRef // what the finding needs of the event, not the event itself
}

// window is one group's hits within the timespan. For value_sum it keeps
// their sum as hits come and go; while the values are whole numbers and the
// sum stays below 2^53 that sum is exact, the same as adding the hits up
// again; otherwise (approx) they are added up again when asked.
type window struct {
	hits         []hit
	key          string
	older, newer *window
	sum          float64
	approx       bool
}

// exactSum is where float64 stops holding every whole number.
const exactSum = 1 << 53

func (w *window) add(n float64) {
	w.sum += n
	if n != math.Trunc(n) || math.Abs(w.sum) >= exactSum {
		w.approx = true
	}
}

// reset empties the window.
func (w *window) reset() {
	w.hits = w.hits[:0]
	w.sum, w.approx = 0, false
}

// total is the sum of the hits' values.
func (w *window) total() float64 {
	if !w.approx {
		return w.sum
	}
	var x float64
	for _, h := range w.hits {
		x += h.num
	}
	return x
}

// touch moves w to the newest end of the groups' list.
func (cs *corrState) touch(w *window) {
	if cs.newest == w {
		return
	}
	cs.unlink(w)
	w.older = cs.newest
	if cs.newest != nil {
		cs.newest.newer = w
	}
	cs.newest = w
	if cs.oldest == nil {
		cs.oldest = w
	}
}

func (cs *corrState) unlink(w *window) {
	if w.older != nil {
		w.older.newer = w.newer
	} else if cs.oldest == w {
		cs.oldest = w.newer
	}
	if w.newer != nil {
		w.newer.older = w.older
	} else if cs.newest == w {
		cs.newest = w.older
	}
	w.older, w.newer = nil, nil
}

func newCorrState(r *Rule, byRef map[string]any) (*corrState, error) {
	c := r.Correlation
	cs := &corrState{rule: r, typ: c.Type, groupBy: c.GroupBy, groups: map[string]*window{}, emit: true}
	switch c.Type {
	case "event_count", "value_count", "value_sum", "temporal", "temporal_ordered":
	case "new_value":
		// exfiltrace extension: fires when the field takes a value never seen
		// during the first timespan of the stream (the baseline) nor since.
		cs.seen = map[string]bool{}
	default:
		return nil, errUnsupported{"correlation type " + c.Type}
	}
	if len(c.Aliases) > 0 {
		return nil, errUnsupported{"correlation aliases"}
	}
	d, err := parseTimespan(c.Timespan)
	if err != nil {
		return nil, err
	}
	cs.span = d
	for _, ref := range c.Rules {
		b, ok := byRef[ref]
		if !ok {
			return nil, fmt.Errorf("correlation refers to rule %q, which is not loaded", ref)
		}
		cs.base = append(cs.base, b)
	}
	if len(cs.base) == 0 {
		return nil, errors.New("correlation names no rules")
	}
	for k, v := range c.Condition {
		switch k {
		case "field":
			cs.field, _ = v.(string)
		case "gt", "gte", "lt", "lte", "eq":
			s, err := scalarString(v)
			if err != nil {
				return nil, err
			}
			f, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return nil, fmt.Errorf("correlation condition %s: %q is not a number", k, s)
			}
			cs.op, cs.n = k, f
		default:
			return nil, errUnsupported{"correlation condition " + k}
		}
	}
	switch {
	case cs.typ == "new_value":
		if cs.field == "" {
			return nil, errors.New("new_value correlation needs condition.field")
		}
		cs.op = "new"
	case strings.HasPrefix(cs.typ, "temporal"):
		if cs.op == "" {
			cs.op, cs.n = "gte", float64(len(cs.base))
		}
	case cs.op == "":
		return nil, errors.New("correlation has no condition")
	case cs.op == "lt" || cs.op == "lte":
		return nil, errUnsupported{"correlation condition " + cs.op + " (needs end-of-window evaluation)"}
	}
	if (cs.typ == "value_count" || cs.typ == "value_sum") && cs.field == "" {
		return nil, fmt.Errorf("%s correlation needs condition.field", cs.typ)
	}
	for _, b := range cs.base {
		switch x := b.(type) {
		case *compiled:
			x.corrs = append(x.corrs, cs)
			if !c.Generate {
				x.emit = false
			}
		case *corrState:
			x.dependents = append(x.dependents, cs)
			if !c.Generate {
				x.emit = false
			}
		}
	}
	return cs, nil
}

func parseTimespan(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if len(s) < 2 {
		return 0, fmt.Errorf("bad timespan %q", s)
	}
	n, err := strconv.Atoi(s[:len(s)-1])
	if err != nil {
		return 0, fmt.Errorf("bad timespan %q", s)
	}
	unit := map[byte]time.Duration{'s': time.Second, 'm': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour, 'M': 30 * 24 * time.Hour, 'y': 365 * 24 * time.Hour}[s[len(s)-1]]
	if unit == 0 {
		return 0, fmt.Errorf("bad timespan unit in %q", s)
	}
	return time.Duration(n) * unit, nil
}

func (cs *corrState) observe(base any, v *view, f *collector) {
	ev := v.ev
	if ev.Timestamp.IsZero() {
		return // a line kept raw has no time to place in a timespan
	}
	if cs.typ == "new_value" {
		cs.observeNew(v, f)
		return
	}
	which := 0
	for i, b := range cs.base {
		if b == base {
			which = i
		}
	}
	key := cs.key[:0]
	for _, g := range cs.groupBy {
		vals := v.values(g)
		if len(vals) == 0 {
			return // events without the group-by field do not correlate
		}
		key = append(key, vals[0]...)
		key = append(key, 0)
	}
	cs.key = key
	h := hit{t: ev.Timestamp, which: which, ref: v.ref()}
	if cs.field != "" {
		vals := v.values(cs.field)
		if len(vals) == 0 {
			return
		}
		h.val = vals[0]
		if cs.typ == "value_sum" {
			n, err := strconv.ParseFloat(h.val, 64)
			if err != nil {
				return
			}
			h.num = n
		}
	}
	w := cs.groups[string(key)] // looked up without a copy; copied once for a new group
	if w == nil {
		k := string(key)
		w = &window{key: k}
		cs.groups[k] = w
	}
	cs.touch(w)
	// Slide: drop hits older than the span.
	cut := 0
	for cut < len(w.hits) && ev.Timestamp.Sub(w.hits[cut].t) > cs.span {
		cut++
	}
	if cut == len(w.hits) {
		w.reset()
		cut = 0
	} else if cs.typ == "value_sum" && !w.approx {
		for _, x := range w.hits[:cut] {
			w.sum -= x.num
		}
	}
	w.hits = append(w.hits[cut:], h)
	if cs.typ == "value_sum" {
		w.add(h.num)
	}
	if cs.fires(w) {
		refs := make([]*evRef, len(w.hits))
		for i, x := range w.hits {
			refs[i] = x.ref
		}
		if cs.emit {
			f.addRefs(cs.rule, refs)
		}
		w.reset() // a new window starts after an alert
		for _, d := range cs.dependents {
			d.observe(cs, v, f)
		}
	}
	cs.gc(ev.Timestamp)
}

// observeNew learns values during the baseline, then reports each value the
// first time it appears. Memory: one entry per distinct value.
func (cs *corrState) observeNew(v *view, f *collector) {
	ev := v.ev
	var key strings.Builder
	for _, g := range cs.groupBy {
		vals := v.values(g)
		if len(vals) == 0 {
			return
		}
		key.WriteString(vals[0])
		key.WriteByte(0)
	}
	vals := v.values(cs.field)
	if len(vals) == 0 {
		return
	}
	k := key.String() + vals[0]
	if cs.seen[k] {
		return
	}
	cs.seen[k] = true
	if ev.Timestamp.Sub(cs.baselineStart()) < cs.span {
		return // still learning what is normal
	}
	if cs.emit {
		f.add(cs.rule, v.ref())
	}
	for _, d := range cs.dependents {
		d.observe(cs, v, f)
	}
}

// baselineStart is when the new_value baseline began: the first event the
// base rule's log source delivered (a firewall baseline starts with the
// firewall log, even if Windows logs begin days earlier).
func (cs *corrState) baselineStart() time.Time {
	if c, ok := cs.base[0].(*compiled); ok && c.first != nil && !c.first.IsZero() {
		return *c.first
	}
	if cs.streamStart != nil {
		return *cs.streamStart
	}
	return time.Time{}
}

// gc drops groups whose newest hit left the window (or that have none
// since an alert), from the old end of the list: state stays bounded by
// what one window holds, not by the case, at a cost per hit, not per group.
// Dropping only frees memory: a group's hits older than the span would
// slide out at its next hit anyway.
func (cs *corrState) gc(now time.Time) {
	for w := cs.oldest; w != nil; w = cs.oldest {
		if len(w.hits) > 0 && now.Sub(w.hits[len(w.hits)-1].t) <= cs.span {
			return
		}
		cs.unlink(w)
		delete(cs.groups, w.key)
	}
}

func (cs *corrState) fires(w *window) bool {
	var x float64
	switch cs.typ {
	case "event_count":
		x = float64(len(w.hits))
	case "value_count":
		seen := map[string]bool{}
		for _, h := range w.hits {
			seen[h.val] = true
		}
		x = float64(len(seen))
	case "value_sum":
		x = w.total()
	case "temporal":
		seen := map[int]bool{}
		for _, h := range w.hits {
			seen[h.which] = true
		}
		x = float64(len(seen))
	case "temporal_ordered":
		next := 0
		for _, h := range w.hits {
			if h.which == next {
				next++
			}
		}
		x = float64(next)
	}
	switch cs.op {
	case "gt":
		return x > cs.n
	case "gte":
		return x >= cs.n
	case "eq":
		return x == cs.n
	}
	return false
}
