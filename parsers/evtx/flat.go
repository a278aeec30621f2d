package evtx

import "strconv"

// Flat is a record as the event model reads it — the System values, the
// EventData and the UserData — decoded straight from the template and its
// substitution values, without building an element tree. Almost every
// record of a Windows log is one template instance whose layout is the
// same from record to record: the layout is compiled once per template
// (a plan) and each record only fills it.
type Flat struct {
	Sys       [SysFields]string
	EventData []KV
	UserData  []KV // leaves of the UserData tree, names dotted from its top element
}

// KV is one named value of EventData or UserData, in document order.
type KV struct{ Name, Value string }

// System values of a Flat record.
const (
	SysProvider = iota
	SysProviderGUID
	SysEventSourceName
	SysEventID
	SysQualifiers
	SysVersion
	SysLevel
	SysTask
	SysOpcode
	SysKeywords
	SysTimeCreated
	SysRecordID
	SysActivityID
	SysProcessID
	SysThreadID
	SysChannel
	SysComputer
	SysUserID
	SysFields
)

// systemSlots maps System's elements and attributes to Flat's fields.
var systemSlots = map[string]map[string]int{ // element → attribute ("" for text) → field
	"Provider":      {"Name": SysProvider, "Guid": SysProviderGUID, "EventSourceName": SysEventSourceName},
	"EventID":       {"": SysEventID, "Qualifiers": SysQualifiers},
	"Version":       {"": SysVersion},
	"Level":         {"": SysLevel},
	"Task":          {"": SysTask},
	"Opcode":        {"": SysOpcode},
	"Keywords":      {"": SysKeywords},
	"TimeCreated":   {"SystemTime": SysTimeCreated},
	"EventRecordID": {"": SysRecordID},
	"Correlation":   {"ActivityID": SysActivityID},
	"Execution":     {"ProcessID": SysProcessID, "ThreadID": SysThreadID},
	"Channel":       {"": SysChannel},
	"Computer":      {"": SysComputer},
	"Security":      {"UserID": SysUserID},
}

// slot is one value of the layout: static text, or a substitution.
type slot struct {
	static   string
	sub      int // -1: static
	optional bool
	set      bool
}

type dataSlot struct {
	name  slot
	named bool   // the element has a Name attribute (else param<n> or its element name)
	elem  string // element name (Data, Binary…)
	value slot
}

// plan is a template's compiled layout.
type plan struct {
	ok   bool
	sys  [SysFields]slot
	data []dataSlot
	user []dataSlot // name is static (the dotted path)
	// sections are substitutions holding embedded Binary XML — how
	// EventData and UserData usually come: each is read with its own plan.
	sections []int
}

// single reads content made of at most one item: static text or one
// substitution. Anything else (nested elements, mixed text) does not fit a plan.
func single(items []item) (slot, bool) {
	switch {
	case len(items) == 0:
		return slot{sub: -1, set: true}, true
	case len(items) > 1:
		return slot{}, false
	}
	switch it := items[0]; it.kind {
	case tokValue:
		return slot{static: it.text, sub: -1, set: true}, true
	case tokNormalSubst:
		return slot{sub: it.sub, optional: it.optional, set: true}, true
	}
	return slot{}, false
}

func compilePlan(items []item) *plan {
	p := &plan{}
	var event *elem
	for _, it := range items {
		switch it.kind {
		case tokOpenStart:
			if event != nil {
				return p
			}
			event = it.elem
		case tokValue:
		default:
			return p
		}
	}
	if event == nil || event.name != "Event" {
		return p
	}
	for _, it := range event.content {
		switch it.kind {
		case tokValue:
			continue // whitespace between elements
		case tokNormalSubst:
			p.sections = append(p.sections, it.sub)
			continue
		case tokOpenStart:
		default:
			return p
		}
		if !p.section(it.elem) {
			return p
		}
		e := it.elem
		if e.name != "System" {
			continue
		}
		for _, c := range e.content {
			if c.kind == tokValue {
				continue
			}
			if c.kind != tokOpenStart {
				return p
			}
			fields, known := systemSlots[c.elem.name]
			if !known {
				continue
			}
			if f, ok := fields[""]; ok {
				s, ok := single(c.elem.content)
				if !ok {
					return p
				}
				p.sys[f] = s
			}
			for _, a := range c.elem.attrs {
				if f, ok := fields[a.name]; ok {
					s, ok := single(a.value)
					if !ok {
						return p
					}
					p.sys[f] = s
				}
			}
		}
	}
	p.ok = true
	return p
}

// section compiles an EventData or UserData element into the plan; other
// elements are not part of the event model and are passed over.
func (p *plan) section(e *elem) bool {
	switch e.name {
	case "EventData":
		for _, c := range e.content {
			if c.kind == tokValue {
				continue
			}
			if c.kind != tokOpenStart {
				return false
			}
			d := dataSlot{elem: c.elem.name}
			for _, a := range c.elem.attrs {
				if a.name == "Name" {
					s, ok := single(a.value)
					if !ok {
						return false
					}
					d.name, d.named = s, true
				}
			}
			v, ok := single(c.elem.content)
			if !ok {
				return false
			}
			d.value = v
			p.data = append(p.data, d)
		}
	case "UserData":
		for _, c := range e.content {
			if c.kind == tokValue {
				continue
			}
			if c.kind != tokOpenStart || !userLeaves(c.elem, "", &p.user) {
				return false
			}
		}
	}
	return true
}

// compileSection compiles the template of an embedded EventData or UserData.
func compileSection(items []item) *plan {
	p := &plan{}
	root := 0
	for _, it := range items {
		switch it.kind {
		case tokValue:
		case tokOpenStart:
			root++
			if root > 1 || !p.section(it.elem) {
				return p
			}
		default:
			return p
		}
	}
	p.ok = true
	return p
}

// userLeaves lists the leaves under UserData's top element, as the tree
// reader flattens them: dotted names, text values.
func userLeaves(top *elem, prefix string, out *[]dataSlot) bool {
	for _, c := range top.content {
		if c.kind == tokValue {
			continue
		}
		if c.kind != tokOpenStart {
			return false
		}
		key := prefix + c.elem.name
		hasChild := false
		for _, x := range c.elem.content {
			if x.kind == tokOpenStart {
				hasChild = true
			}
		}
		if hasChild {
			if !userLeaves(c.elem, key+".", out) {
				return false
			}
			continue
		}
		v, ok := single(c.elem.content)
		if !ok {
			return false
		}
		*out = append(*out, dataSlot{name: slot{static: key, sub: -1, set: true}, value: v})
	}
	return true
}

// errNotFlat says a record does not fit the flat path: it is decoded into
// an element tree instead.
type errNotFlat struct{}

func (errNotFlat) Error() string { return "record does not fit a compiled template layout" }

// text resolves a slot the way the tree reader renders it.
func (s slot) text(vals []value) (string, bool) {
	if s.sub < 0 {
		return s.static, true
	}
	if s.sub >= len(vals) {
		return "", false
	}
	v := vals[s.sub]
	if v.nodes != nil {
		return "", false // embedded XML: the tree reader handles it
	}
	return v.text, true
}

// decodeFlat decodes a record that is one template instance into a Flat.
func (ck *chunk) decodeFlat(start, end uint32) (*Flat, error) {
	c := &cursor{ck: ck, pos: start, end: end}
	if c.need(4) == nil && ck.data[c.pos] == tokFragment {
		c.pos += 4
	}
	tok, err := c.u8()
	if err != nil {
		return nil, err
	}
	if tok != tokTemplate {
		return nil, errNotFlat{}
	}
	tmpl, vals, release, err := c.readInstance(0)
	if err != nil {
		return nil, err
	}
	defer release()
	if t, err := c.u8(); err == nil && t != tokEOF {
		return nil, errNotFlat{}
	}
	if len(tmpl) == 0 {
		return nil, errNotFlat{}
	}
	p := ck.plans[&tmpl[0]]
	if p == nil {
		p = compilePlan(tmpl)
		ck.plans[&tmpl[0]] = p
	}
	if !p.ok {
		return nil, errNotFlat{}
	}
	f := &Flat{}
	for i, s := range p.sys {
		if !s.set {
			continue
		}
		v, ok := s.text(vals)
		if !ok {
			return nil, errNotFlat{}
		}
		f.Sys[i] = v
	}
	if err := p.fill(f, vals); err != nil {
		return nil, err
	}
	for _, sub := range p.sections {
		if err := ck.fillSection(f, vals, sub); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// fill adds a plan's EventData and UserData values to f.
func (p *plan) fill(f *Flat, vals []value) error {
	params := 0
	for _, d := range p.data {
		name := ""
		if d.named {
			n, ok := d.name.text(vals)
			if !ok {
				return errNotFlat{}
			}
			name = n
		}
		// An array substitution renders one element per item.
		if d.value.sub >= 0 && d.value.sub < len(vals) && vals[d.value.sub].typ&tArray != 0 && !vals[d.value.sub].null {
			for _, item := range vals[d.value.sub].items {
				f.EventData = append(f.EventData, KV{dataName(name, d.elem, &params), item})
			}
			continue
		}
		v, ok := d.value.text(vals)
		if !ok {
			return errNotFlat{}
		}
		f.EventData = append(f.EventData, KV{dataName(name, d.elem, &params), v})
	}
	for _, u := range p.user {
		v, ok := u.value.text(vals)
		if !ok {
			return errNotFlat{}
		}
		f.UserData = append(f.UserData, KV{u.name.static, v})
	}
	return nil
}

// fillSection reads an embedded EventData or UserData: one template
// instance of its own, filled with its own plan.
func (ck *chunk) fillSection(f *Flat, vals []value, sub int) error {
	if sub >= len(vals) {
		return errNotFlat{}
	}
	v := vals[sub]
	if v.null || (v.bx && v.bxStart == v.bxEnd) {
		return nil
	}
	if !v.bx {
		return errNotFlat{}
	}
	c := &cursor{ck: ck, pos: v.bxStart, end: v.bxEnd}
	if c.need(4) == nil && ck.data[c.pos] == tokFragment {
		c.pos += 4
	}
	tok, err := c.u8()
	if err != nil {
		return err
	}
	if tok != tokTemplate {
		return errNotFlat{}
	}
	tmpl, svals, release, err := c.readInstance(v.bxDepth + 1)
	if err != nil {
		return err
	}
	defer release()
	if t, err := c.u8(); err == nil && t != tokEOF {
		return errNotFlat{}
	}
	if len(tmpl) == 0 {
		return errNotFlat{}
	}
	p := ck.sectionPlans[&tmpl[0]]
	if p == nil {
		p = compileSection(tmpl)
		ck.sectionPlans[&tmpl[0]] = p
	}
	if !p.ok || len(p.sections) > 0 {
		return errNotFlat{}
	}
	return p.fill(f, svals)
}

// dataName names an EventData value as the tree reader does: its Name
// attribute, else param<n> for unnamed Data, else its element name.
func dataName(name, elem string, params *int) string {
	if name != "" {
		return name
	}
	if elem == "Data" {
		*params++
		return "param" + strconv.Itoa(*params)
	}
	return elem
}

// recordID reads the EventRecordID a decoded record carries.
func (r *Record) recordID() (uint64, bool) {
	var s string
	switch {
	case r.Flat != nil:
		s = r.Flat.Sys[SysRecordID]
	case r.Root != nil:
		n := r.Root.Child("System").Child("EventRecordID")
		if n == nil {
			return 0, false
		}
		s = n.Text
	default:
		return 0, false
	}
	id, err := strconv.ParseUint(s, 10, 64)
	return id, err == nil
}
