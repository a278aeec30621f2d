package rules

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// compiled is a rule ready to run.
type compiled struct {
	rule *Rule
	m    matcher
	key  string // logsource key; "" for every event
	// emit says whether the rule's own matches are findings (false for the
	// base rules of a correlation, unless it asks to generate them).
	emit  bool
	corrs []*corrState
	// first is the time of the first event of the rule's log source, shared
	// by its rules: a baseline over this rule starts there, not at the first
	// event of whatever log happens to start earlier.
	first *time.Time
	ids   map[string]bool // EventIDs the rule needs one of; nil: any (prefilter.go)
}

// Engine evaluates compiled rules on a time-ordered event stream, in one pass.
type Engine struct {
	byKey   map[string]*ruleList
	any     *ruleList
	firstOf map[string]*time.Time // first event of each rule's log source
	Loaded  []*Rule
	Skipped []Skipped
	corrs   []*corrState
	find    *collector
	first   time.Time // first event of the stream: baselines start here
	view    view

	// What Decode reads of a stored event (reads.go).
	selection   event.Selection
	keywordAny  *rawGate            // keyword rules that apply to every event
	keywordKeys map[string]*rawGate // keyword rules by the logsource they apply to
	pieces      pieceSet            // what the keyword rules' gates look for
}

// Compile compiles rules once. Rules the engine cannot run are listed in
// Skipped with the reason; the others run.
func Compile(rules []*Rule) *Engine { return CompileWith(rules, DefaultConfig()) }

// CompileWith compiles rules with a case configuration (placeholder values).
func CompileWith(rules []*Rule, cfg *Config) *Engine {
	e := &Engine{byKey: map[string]*ruleList{}, firstOf: map[string]*time.Time{}, find: newCollector(), keywordKeys: map[string]*rawGate{}}
	var anyKey []*compiled
	byKey := map[string][]*compiled{}
	e.selection.Only = map[string]bool{}
	(&fieldReads{names: e.selection.Only}).add(eventReads...)
	byRef := map[string]*compiled{}
	var correlations []*Rule
	for _, r := range rules {
		if r.Correlation != nil {
			correlations = append(correlations, r)
			continue
		}
		c, err := compileRule(r, cfg)
		if err != nil {
			e.Skipped = append(e.Skipped, Skipped{Source: r.Source, Title: r.Title, Reason: err.Error()})
			continue
		}
		c.emit = true
		e.learnReads(c)
		if c.key == "" {
			anyKey = append(anyKey, c)
			c.first = &e.first
		} else {
			byKey[c.key] = append(byKey[c.key], c)
			if e.firstOf[c.key] == nil {
				e.firstOf[c.key] = new(time.Time)
			}
			c.first = e.firstOf[c.key]
		}
		e.Loaded = append(e.Loaded, r)
		if r.ID != "" {
			byRef[r.ID] = c
		}
		if r.Name != "" {
			byRef[r.Name] = c
		}
	}
	e.any = newRuleList(anyKey)
	for k, l := range byKey {
		e.byKey[k] = newRuleList(l)
	}
	refs := map[string]any{}
	for k, c := range byRef {
		refs[k] = c
	}
	// Correlations may refer to correlations: resolve in rounds.
	pending := correlations
	for len(pending) > 0 {
		var next []*Rule
		var lastErr = map[*Rule]error{}
		for _, r := range pending {
			cs, err := newCorrState(r, refs)
			if err != nil {
				next = append(next, r)
				lastErr[r] = err
				continue
			}
			cs.streamStart = &e.first
			reads := fieldReads{names: e.selection.Only}
			for _, g := range cs.groupBy {
				reads.field(g)
			}
			if cs.field != "" {
				reads.field(cs.field)
			}
			e.corrs = append(e.corrs, cs)
			e.Loaded = append(e.Loaded, r)
			for _, k := range []string{r.ID, r.Name} {
				if k != "" {
					refs[k] = cs
				}
			}
		}
		if len(next) == len(pending) {
			for _, r := range next {
				e.Skipped = append(e.Skipped, Skipped{Source: r.Source, Title: r.Title, Reason: lastErr[r].Error()})
			}
			break
		}
		pending = next
	}
	return e
}

func compileRule(r *Rule, cfg *Config) (*compiled, error) {
	if r.Title == "" {
		return nil, errors.New("rule has no title")
	}
	if len(r.Detection) == 0 {
		return nil, errors.New("rule has no detection")
	}
	key, err := logsourceKey(r.Logsource)
	if err != nil {
		return nil, err
	}
	sel := map[string]matcher{}
	var cond any
	for name, def := range r.Detection {
		switch name {
		case "condition":
			cond = def
			continue
		case "timeframe":
			return nil, errUnsupported{"detection timeframe (Sigma v1 aggregation); use a correlation rule"}
		}
		m, err := compileSelection(name, def, cfg)
		if err != nil {
			return nil, fmt.Errorf("selection %s: %w", name, err)
		}
		sel[name] = m
	}
	var conds []string
	switch c := cond.(type) {
	case string:
		conds = []string{c}
	case []any:
		for _, x := range c {
			s, _ := x.(string)
			conds = append(conds, s)
		}
	default:
		return nil, errors.New("rule has no condition")
	}
	var or orM
	for _, c := range conds {
		m, err := compileCondition(c, sel)
		if err != nil {
			return nil, err
		}
		or = append(or, m)
	}
	var m matcher = or
	if len(or) == 1 {
		m = or[0]
	}
	c := &compiled{rule: r, m: m, key: key}
	c.ids, _ = requiredIDs(m)
	return c, nil
}

// Process evaluates one event. Events must arrive in time order for
// correlation windows to be right.
func (e *Engine) Process(ev *event.Event) {
	v := e.begin(ev)
	e.applicable(v, func(c *compiled) {
		if c.m.match(v) {
			e.apply(c, v)
		}
	})
}

// begin points the engine's view at the next event of the stream.
func (e *Engine) begin(ev *event.Event) *view {
	if e.first.IsZero() {
		e.first = ev.Timestamp
	}
	e.view.reset(ev)
	for _, k := range e.view.sources {
		if t := e.firstOf[k]; t != nil && t.IsZero() {
			*t = ev.Timestamp
		}
	}
	return &e.view
}

// applicable calls fn with every rule that may match the view's event (of
// its log sources, those its event ID allows), in the order they are tested.
func (e *Engine) applicable(v *view, fn func(c *compiled)) {
	ids := v.values(idField)
	for _, c := range e.any.candidates(ids) {
		fn(c)
	}
	for _, k := range v.sources {
		if l := e.byKey[k]; l != nil {
			for _, c := range l.candidates(ids) {
				fn(c)
			}
		}
	}
}

// apply records that rule c matched the view's event.
func (e *Engine) apply(c *compiled, v *view) {
	if c.emit {
		e.find.add(c.rule, v.ev)
	}
	for _, corr := range c.corrs {
		corr.observe(c, v, e.find)
	}
}

// Findings returns what fired, ordered by first time seen.
func (e *Engine) Findings() []*Finding { return e.find.list() }

// ---------------------------------------------------------------- correlation

type corrState struct {
	rule        *Rule
	typ         string
	base        []any // *compiled or *corrState
	dependents  []*corrState
	emit        bool
	groupBy     []string
	span        time.Duration
	field       string
	op          string
	n           float64
	groups      map[string]*window
	lastSeen    time.Time
	seen        map[string]bool // new_value: values seen so far
	streamStart *time.Time      // new_value: the baseline runs from the stream's first event
}

type hit struct {
	t     time.Time
	val   string
	num   float64
	which int    // index of the base rule (temporal)
	ref   *evRef // what the finding needs of the event, not the event itself
}

type window struct{ hits []hit }

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
	var key strings.Builder
	for _, g := range cs.groupBy {
		vals := v.values(g)
		if len(vals) == 0 {
			return // events without the group-by field do not correlate
		}
		key.WriteString(vals[0])
		key.WriteByte(0)
	}
	h := hit{t: ev.Timestamp, which: which, ref: refOf(ev)}
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
	w := cs.groups[key.String()]
	if w == nil {
		w = &window{}
		cs.groups[key.String()] = w
	}
	// Slide: drop hits older than the span.
	cut := 0
	for cut < len(w.hits) && ev.Timestamp.Sub(w.hits[cut].t) > cs.span {
		cut++
	}
	w.hits = append(w.hits[cut:], h)
	if cs.fires(w) {
		refs := make([]*evRef, len(w.hits))
		for i, x := range w.hits {
			refs[i] = x.ref
		}
		if cs.emit {
			f.addRefs(cs.rule, refs)
		}
		w.hits = w.hits[:0] // a new window starts after an alert
		for _, d := range cs.dependents {
			d.observe(cs, v, f)
		}
	}
	if ev.Timestamp.Sub(cs.lastSeen) > cs.span {
		cs.gc(ev.Timestamp)
	}
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
		f.add(cs.rule, ev)
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

// gc drops groups whose newest hit left the window: state stays bounded by
// what one window holds, not by the case.
func (cs *corrState) gc(now time.Time) {
	cs.lastSeen = now
	for k, w := range cs.groups {
		if len(w.hits) == 0 || now.Sub(w.hits[len(w.hits)-1].t) > cs.span {
			delete(cs.groups, k)
		}
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
		for _, h := range w.hits {
			x += h.num
		}
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

// ---------------------------------------------------------------- findings

// Finding is what one rule found across the case.
type Finding struct {
	RuleID    string     `json:"rule_id"`
	Title     string     `json:"title"`
	Level     string     `json:"level"`
	Tags      []string   `json:"tags,omitempty"`
	Count     int        `json:"count"` // events (or alerts, for correlations) that matched
	First     time.Time  `json:"first_seen"`
	Last      time.Time  `json:"last_seen"`
	Hosts     []string   `json:"hosts,omitempty"`
	Users     []string   `json:"users,omitempty"`
	Sources   []string   `json:"source_ips,omitempty"`
	Dests     []string   `json:"destinations,omitempty"`
	Evidence  []Evidence `json:"evidence"`
	Truncated int        `json:"evidence_not_listed,omitempty"`
	Source    string     `json:"rule_file,omitempty"`
	// TitleFR is the rule's French title, for French reports.
	TitleFR string `json:"title_fr,omitempty"`
	Signal  string `json:"signal,omitempty"`
	// Occurrences are the separate times the rule fired, per host and
	// account, so that a report can tell an episode from another days apart.
	Occurrences []Occurrence `json:"occurrences,omitempty"`
	// OccurrencesMerged counts alerts folded into the last occurrence once
	// maxOccurrences was reached.
	OccurrencesMerged int `json:"occurrences_merged,omitempty"`
}

// Occurrence is one episode of a finding: alerts of the same host and account
// less than occurrenceGap apart.
type Occurrence struct {
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
	Host  string    `json:"host,omitempty"`
	User  string    `json:"user,omitempty"`
	Src   string    `json:"source_ip,omitempty"`
	Count int       `json:"count"`
}

const (
	maxOccurrences = 500
	occurrenceGap  = time.Hour
)

// Evidence points at one event behind a finding.
type Evidence struct {
	EventID string    `json:"event_id"`
	Time    time.Time `json:"time"`
	File    string    `json:"file"`
	Line    int64     `json:"line,omitempty"`
	Record  int64     `json:"record,omitempty"`
	Summary string    `json:"summary,omitempty"`
}

const maxEvidence = 25

type collector struct {
	by    map[*Rule]*Finding
	order []*Finding
}

func newCollector() *collector { return &collector{by: map[*Rule]*Finding{}} }

// evRef is what a finding keeps of an event: correlation windows hold these,
// so their memory is a few hundred bytes per event in the window.
type evRef struct {
	Evidence
	host, user, src string
	dests           []string
}

func refOf(e *event.Event) *evRef {
	line, _ := e.Int(event.FieldLine)
	rec, _ := e.Int(event.FieldRecord)
	r := &evRef{Evidence: Evidence{EventID: e.Str(event.FieldID), Time: e.Timestamp, File: e.Str(event.FieldFile),
		Line: line, Record: rec, Summary: summary(e)},
		host: e.Str("host.name"), user: e.Str("user.name"), src: e.Str("source.ip")}
	if d := firstNonEmpty(e.Str("destination.domain"), e.Str("destination.ip")); d != "" {
		r.dests = append(r.dests, d)
	}
	r.dests = append(r.dests, e.Strings("email.to.address")...)
	return r
}

func (c *collector) add(r *Rule, ev *event.Event) { c.addRefs(r, []*evRef{refOf(ev)}) }

func (c *collector) addRefs(r *Rule, refs []*evRef) {
	f := c.by[r]
	if f == nil {
		f = &Finding{RuleID: r.ID, Title: r.Title, TitleFR: r.TitleFR, Signal: r.Signal, Level: r.Level, Tags: r.Tags, First: refs[0].Time, Source: r.Source}
		c.by[r] = f
		c.order = append(c.order, f)
	}
	f.Count++
	f.addOccurrence(refs)
	for _, e := range refs {
		if e.Time.Before(f.First) {
			f.First = e.Time
		}
		if e.Time.After(f.Last) {
			f.Last = e.Time
		}
		f.Hosts = addUnique(f.Hosts, e.host)
		f.Users = addUnique(f.Users, e.user)
		f.Sources = addUnique(f.Sources, e.src)
		for _, d := range e.dests {
			f.Dests = addUnique(f.Dests, d)
		}
		if len(f.Evidence) >= maxEvidence {
			f.Truncated++
			continue
		}
		f.Evidence = append(f.Evidence, e.Evidence)
	}
}

// addOccurrence records one alert (its events' span, host, account and
// source address), merged into the previous occurrence of the same host and
// account when it follows it closely.
func (f *Finding) addOccurrence(refs []*evRef) {
	o := Occurrence{First: refs[0].Time, Last: refs[0].Time, Count: 1}
	for _, e := range refs {
		if e.Time.Before(o.First) {
			o.First = e.Time
		}
		if e.Time.After(o.Last) {
			o.Last = e.Time
		}
		o.Host = firstNonEmpty(o.Host, e.host)
		o.User = firstNonEmpty(o.User, e.user)
		o.Src = firstNonEmpty(o.Src, e.src)
	}
	for i := len(f.Occurrences) - 1; i >= 0 && i >= len(f.Occurrences)-8; i-- {
		p := &f.Occurrences[i]
		if p.Host == o.Host && p.User == o.User && p.Src == o.Src && !o.First.After(p.Last.Add(occurrenceGap)) && !p.First.After(o.Last.Add(occurrenceGap)) {
			if o.First.Before(p.First) {
				p.First = o.First
			}
			if o.Last.After(p.Last) {
				p.Last = o.Last
			}
			p.Count++
			return
		}
	}
	if len(f.Occurrences) >= maxOccurrences {
		p := &f.Occurrences[len(f.Occurrences)-1]
		if o.Last.After(p.Last) {
			p.Last = o.Last
		}
		p.Count++
		f.OccurrencesMerged++
		return
	}
	f.Occurrences = append(f.Occurrences, o)
}

func summary(e *event.Event) string {
	s := e.Str("message")
	if cl := e.Str("process.command_line"); cl != "" {
		s = cl
	}
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

const maxListed = 20

func addUnique(list []string, v string) []string {
	if v == "" || len(list) >= maxListed {
		return list
	}
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(list, v)
}

func (c *collector) list() []*Finding {
	out := append([]*Finding(nil), c.order...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].First.Before(out[j].First) })
	return out
}
