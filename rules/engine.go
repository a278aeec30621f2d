package rules

import (
	"errors"
	"fmt"
	"sort"
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
	placed  []string // Process's logsource keys of its event, for view

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
	e.placed = eventLogsources(ev, e.placed[:0])
	v := e.begin(ev, e.placed)
	e.applicable(v, func(c *compiled) {
		if c.m.match(v) {
			e.apply(c, v)
		}
	})
}

// begin points the engine's view at the next event of the stream, placed
// in sources.
func (e *Engine) begin(ev *event.Event, sources []string) *view {
	if e.first.IsZero() {
		e.first = ev.Timestamp
	}
	e.view.point(ev, sources)
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
		e.find.add(c.rule, v.ref())
	}
	for _, corr := range c.corrs {
		corr.observe(c, v, e.find)
	}
}

// Findings returns what fired, ordered by first time seen.
func (e *Engine) Findings() []*Finding { return e.find.list() }

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
	dest            [1]string // dests' room for the one destination of a session
}

func refOf(e *event.Event) *evRef {
	line, _ := e.Int(event.FieldLine)
	rec, _ := e.Int(event.FieldRecord)
	r := &evRef{Evidence: Evidence{EventID: e.Str(event.FieldID), Time: e.Timestamp, File: e.Str(event.FieldFile),
		Line: line, Record: rec, Summary: summary(e)},
		host: e.Str("host.name"), user: e.Str("user.name"), src: e.Str("source.ip")}
	if d := firstNonEmpty(e.Str("destination.domain"), e.Str("destination.ip")); d != "" {
		r.dests = append(r.dest[:0], d)
	}
	r.dests = append(r.dests, e.Strings("email.to.address")...)
	return r
}

func (c *collector) add(r *Rule, ref *evRef) { c.addRefs(r, []*evRef{ref}) }

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
		widen(&f.First, &f.Last, e.Time)
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

// widen stretches the span first–last to t. An event without a time (a line
// kept raw) says nothing of when.
func widen(first, last *time.Time, t time.Time) {
	if t.IsZero() {
		return
	}
	if first.IsZero() || t.Before(*first) {
		*first = t
	}
	if t.After(*last) {
		*last = t
	}
}

// addOccurrence records one alert (its events' span, host, account and
// source address), merged into the previous occurrence of the same host and
// account when it follows it closely.
func (f *Finding) addOccurrence(refs []*evRef) {
	o := Occurrence{Count: 1}
	for _, e := range refs {
		widen(&o.First, &o.Last, e.Time)
		o.Host = firstNonEmpty(o.Host, e.host)
		o.User = firstNonEmpty(o.User, e.user)
		o.Src = firstNonEmpty(o.Src, e.src)
	}
	if o.First.IsZero() {
		return // no time: no occurrence to place (the finding counts it)
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
