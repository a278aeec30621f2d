package rules

import (
	"maps"
	"slices"
	"strings"

	"github.com/exfiltrace/exfiltrace/event"
)

// fieldReads is what the engine can read of an event: the fields its rules
// name, and the keyword lists that search all values.
type fieldReads struct {
	names    map[string]bool
	keywords []*keywordM
}

func (r *fieldReads) add(names ...string) {
	for _, n := range names {
		r.names[n] = true
	}
}

// field adds every event field values(name) may consult.
func (r *fieldReads) field(name string) { r.add(lookups(name)...) }

// lookups lists the event fields values(field) may read, in any order; it
// must name at least every one of them (more only costs decoding time).
func lookups(field string) []string {
	if strings.Contains(field, ".") {
		return []string{field}
	}
	if alts, ok := sigmaFields[field]; ok {
		return alts
	}
	return []string{"winlog.event_data." + field, "winlog.user_data." + field, field,
		"user.name", "user.domain", "process.pid", "process.parent.pid"}
}

// eventReads are the fields the engine reads of every event whatever its
// rules: those that place it in a Sigma logsource (eventLogsources) and
// those a finding keeps of it (refOf).
var eventReads = []string{
	"winlog.channel", "winlog.provider_name", "winlog.event_id", event.FieldDataset, "observer.type",
	event.FieldID, event.FieldFile, event.FieldLine, event.FieldRecord, "message", "process.command_line",
	"host.name", "user.name", "source.ip", "destination.domain", "destination.ip", "email.to.address",
}

func (a andM) reads(r *fieldReads) {
	for _, m := range a {
		m.reads(r)
	}
}

func (o orM) reads(r *fieldReads) {
	for _, m := range o {
		m.reads(r)
	}
}

func (a *atLeastM) reads(r *fieldReads) {
	for _, m := range a.ms {
		m.reads(r)
	}
}

func (n notM) reads(r *fieldReads)      { n.m.reads(r) }
func (constM) reads(*fieldReads)        {}
func (k *keywordM) reads(r *fieldReads) { r.keywords = append(r.keywords, k) }

func (f *fieldM) reads(r *fieldReads) {
	r.field(f.field)
	for _, vm := range f.values {
		if ref, ok := vm.(fieldrefM); ok {
			r.field(ref.other)
		}
	}
}

// Selection is what a reader of stored events must decode for this engine:
// the fields its rules and findings read. Events that a keyword rule may
// match are decoded whole by Decode.
func (e *Engine) Selection() *event.Selection { return &e.selection }

// Decode reads one stored event as the engine needs it: only the selected
// fields, unless a keyword rule that applies to the event may match it
// (rawGate), which then gets every field but its original line (keyword
// searches skip that one). Safe for concurrent use.
func (e *Engine) Decode(doc []byte) (*event.Event, error) {
	ev, _, err := e.decode(doc)
	return ev, err
}

// decode is Decode, and whether the event was decoded whole for a keyword
// rule: when not, no keyword rule can match it (rawGate).
func (e *Engine) decode(doc []byte) (ev *event.Event, whole bool, err error) {
	var sources []string
	return e.decodeInto(nil, doc, &sources)
}

// decodeInto is decode into an event handed back (nil: a new one), placed
// in its logsources (into *sources, reused).
func (e *Engine) decodeInto(into *event.Event, doc []byte, sources *[]string) (ev *event.Event, whole bool, err error) {
	d := scans.Get().(*scan)
	d.set, d.doc, d.done, d.any = &e.pieces, doc, false, false
	defer func() { d.doc = nil; scans.Put(d) }()
	if e.keywordAny.possible(d) {
		ev, err = event.DecodeJSONSelectedInto(into, doc, event.ExceptOriginal())
		if err == nil {
			*sources = eventLogsources(ev, (*sources)[:0])
		}
		return ev, true, err
	}
	ev, err = event.DecodeJSONSelectedInto(into, doc, &e.selection)
	if err != nil {
		return ev, false, err
	}
	// The fields that place an event are selected (eventReads): decoding
	// it whole below leaves them as they are.
	*sources = eventLogsources(ev, (*sources)[:0])
	if !e.searchesAll(*sources, d) {
		return ev, false, nil
	}
	ev, err = event.DecodeJSONSelectedInto(ev, doc, event.ExceptOriginal())
	return ev, true, err
}

// searchesAll says whether a keyword rule that applies to an event of these
// logsources may
// match it.
func (e *Engine) searchesAll(sources []string, doc *scan) bool {
	if len(e.keywordKeys) == 0 {
		return false
	}
	for _, k := range sources {
		if e.keywordKeys[k].possible(doc) {
			return true
		}
	}
	return false
}

// learnReads records what one compiled rule reads.
func (e *Engine) learnReads(c *compiled) {
	r := fieldReads{names: e.selection.Only}
	c.m.reads(&r)
	if len(r.keywords) == 0 {
		return
	}
	g := e.keywordAny
	if c.key != "" {
		g = e.keywordKeys[c.key]
	}
	if g == nil {
		g = &rawGate{}
		if c.key == "" {
			e.keywordAny = g
		} else {
			e.keywordKeys[c.key] = g
		}
	}
	for _, k := range r.keywords {
		g.add(k, &e.pieces)
	}
}

// AlsoRead adds what the caller itself reads of each event (a report's
// ledgers read byte counts and addresses no rule may name) to what Decode
// and Prepare keep: field names, and endings of names. Call it before
// decoding starts.
func (e *Engine) AlsoRead(names, suffixes []string) {
	(&fieldReads{names: e.selection.Only}).add(names...)
	e.selection.Suffixes = append(e.selection.Suffixes, suffixes...)
}

// StoredFields is what Decode and Prepare can read of a stored event: with
// keyword rules, every field but the original line; without, the fields
// the rules and AlsoRead name.
func (e *Engine) StoredFields() *event.Selection {
	if e.keywordAny != nil || len(e.keywordKeys) > 0 {
		return event.ExceptOriginal()
	}
	return &event.Selection{Only: maps.Clone(e.selection.Only), Suffixes: slices.Clone(e.selection.Suffixes)}
}
