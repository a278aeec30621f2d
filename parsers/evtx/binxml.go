package evtx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// Binary XML tokens (MS-EVEN6 §3.1.4.7). The 0x40 bit on some tokens means
// "more data follows" (attributes on elements, more value tokens on attributes).
const (
	tokEOF           = 0x00
	tokOpenStart     = 0x01
	tokCloseStart    = 0x02
	tokCloseEmpty    = 0x03
	tokEndElement    = 0x04
	tokValue         = 0x05
	tokAttribute     = 0x06
	tokCDATA         = 0x07
	tokCharRef       = 0x08
	tokEntityRef     = 0x09
	tokPITarget      = 0x0a
	tokPIData        = 0x0b
	tokTemplate      = 0x0c
	tokNormalSubst   = 0x0d
	tokOptionalSubst = 0x0e
	tokFragment      = 0x0f
)

// maxDepth bounds element nesting so hostile input cannot exhaust the stack.
const maxDepth = 64

var errTruncated = errors.New("binary XML runs past the end of its data")

// Node is one XML element of a decoded record.
type Node struct {
	Name     string
	Attrs    []Attr
	Children []*Node
	Text     string
}

// Attr is one XML attribute.
type Attr struct {
	Name, Value string
}

// Child returns the first child element with the given name, or nil.
func (n *Node) Child(name string) *Node {
	if n == nil {
		return nil
	}
	for _, c := range n.Children {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Attr returns the value of the named attribute.
func (n *Node) Attr(name string) (string, bool) {
	if n == nil {
		return "", false
	}
	for _, a := range n.Attrs {
		if a.Name == name {
			return a.Value, true
		}
	}
	return "", false
}

// item is a piece of element content or attribute value before substitution.
type item struct {
	kind     byte // tokValue (literal text), tokNormalSubst (substitution), tokOpenStart (element), tokTemplate (resolved nodes)
	text     string
	sub      int
	subType  byte // the type the template declares for the substitution
	optional bool
	elem     *elem
	nodes    []*Node
}

type elem struct {
	name    string
	attrs   []attrT
	content []item
}

type attrT struct {
	name  string
	value []item
}

// value is one substitution value of a template instance.
type value struct {
	typ   byte
	text  string
	items []string // array values, rendered as one element per item
	nodes []*Node  // embedded Binary XML (type 0x21), once instantiated
	// bx marks embedded Binary XML, kept as its byte range until a tree
	// needs it: the flat path reads it without building one.
	bx      bool
	bxStart uint32
	bxEnd   uint32
	bxDepth int
	null    bool
}

type chunk struct {
	data      []byte
	names     map[uint32]string
	templates map[uint64][]item // by offset<<32 | id: one offset may hold different definitions over a chunk's generations
	building  map[uint32]bool   // templates being parsed, to refuse self-reference
	// byID are the templates this chunk defines, by template id (the first
	// 32 bits of their GUID): the file's other chunks may need them.
	byID map[uint32][]item
	// badTemplates are offsets (with ids) where no valid definition could be read.
	badTemplates map[uint64]bool
	// lenient allows a template whose id differs (see template); lenientUsed
	// says a record was decoded that way.
	lenient, lenientUsed bool
	lenientTemplates     map[*item]bool
	arena                nodeArena
	plans                map[*item]*plan // compiled layouts, by template
	sectionPlans         map[*item]*plan // the same, for embedded EventData / UserData
	// registry holds the templates of the whole file, by id. A record whose
	// template definition was overwritten or zeroed in its own chunk is
	// decoded with the same template from another chunk.
	registry map[uint32][]item
	work     int // tokens decoded in this chunk, bounded against hostile input
	// scratch buffers for template instances; nested instances (embedded
	// binary XML) get their own, so only the outermost level reuses them.
	descBuf []valueDesc
	valBuf  []value
	inUse   bool
}

type valueDesc struct {
	size uint16
	typ  byte
}

// maxChunkWork bounds decoding effort per chunk; real chunks need a few
// hundred thousand token reads at most.
const maxChunkWork = 4 << 20

func newChunk(data []byte) *chunk {
	return &chunk{data: data, names: map[uint32]string{}, templates: map[uint64][]item{}, building: map[uint32]bool{}, byID: map[uint32][]item{}, badTemplates: map[uint64]bool{}, plans: map[*item]*plan{}, sectionPlans: map[*item]*plan{}, lenientTemplates: map[*item]bool{}}
}

// errNeedTemplate says a record's template is not readable in its own chunk
// and not (yet) known from another: the record can be decoded once the
// templates of the whole file are known.
type errNeedTemplate struct{ id uint32 }

func (e errNeedTemplate) Error() string {
	return fmt.Sprintf("template 0x%08x not readable in its chunk", e.id)
}

type cursor struct {
	ck    *chunk
	pos   uint32
	end   uint32
	depth int
}

// need takes the count as 64 bits: a count read from the file times an
// element size must not wrap round to a small number that passes.
func (c *cursor) need(n uint64) error {
	if uint64(c.pos)+n > uint64(c.end) {
		return errTruncated
	}
	return nil
}

func (c *cursor) u8() (byte, error) {
	if err := c.need(1); err != nil {
		return 0, err
	}
	v := c.ck.data[c.pos]
	c.pos++
	return v, nil
}

func (c *cursor) u16() (uint16, error) {
	if err := c.need(2); err != nil {
		return 0, err
	}
	v := binary.LittleEndian.Uint16(c.ck.data[c.pos:])
	c.pos += 2
	return v, nil
}

func (c *cursor) u32() (uint32, error) {
	if err := c.need(4); err != nil {
		return 0, err
	}
	v := binary.LittleEndian.Uint32(c.ck.data[c.pos:])
	c.pos += 4
	return v, nil
}

// nodeArena hands out a record's nodes, attributes and child lists from
// shared blocks: a record is some forty elements, allocated at once instead
// of one by one.
type nodeArena struct {
	nodes    []Node
	attrs    []Attr
	children []*Node
}

func (a *nodeArena) node() *Node {
	if len(a.nodes) == cap(a.nodes) {
		a.nodes = make([]Node, 0, 64)
	}
	a.nodes = a.nodes[:len(a.nodes)+1]
	return &a.nodes[len(a.nodes)-1]
}

func (a *nodeArena) attrList(n int) []Attr {
	if n > 32 {
		return make([]Attr, 0, n)
	}
	if cap(a.attrs)-len(a.attrs) < n {
		a.attrs = make([]Attr, 0, 128)
	}
	s := a.attrs[len(a.attrs) : len(a.attrs) : len(a.attrs)+n]
	a.attrs = a.attrs[:len(a.attrs)+n]
	return s
}

func (a *nodeArena) childList(n int) []*Node {
	if n > 64 {
		return make([]*Node, 0, n)
	}
	if cap(a.children)-len(a.children) < n {
		a.children = make([]*Node, 0, 256)
	}
	s := a.children[len(a.children) : len(a.children) : len(a.children)+n]
	a.children = a.children[:len(a.children)+n]
	return s
}

// decodeRecord decodes the Binary XML of one record into its root element.
func (ck *chunk) decodeRecord(start, end uint32) (*Node, error) {
	c := &cursor{ck: ck, pos: start, end: end}
	items, err := c.parseContent(false, 0)
	if err != nil {
		return nil, err
	}
	nodes, err := ck.instantiate(items, nil)
	if err != nil {
		return nil, err
	}
	for _, n := range nodes {
		return n, nil
	}
	return nil, errors.New("record holds no XML element")
}

// name reads a chunk-relative name reference. Names are stored inline the
// first time they are used in a chunk, and referenced by offset afterwards.
func (c *cursor) name() (string, error) {
	off, err := c.u32()
	if err != nil {
		return "", err
	}
	if off == c.pos {
		// Inline definition: skip it, it is decoded through the cache below.
		if err := c.need(8); err != nil {
			return "", err
		}
		n := binary.LittleEndian.Uint16(c.ck.data[c.pos+6:])
		total := 8 + 2*uint32(n) + 2
		if err := c.need(uint64(total)); err != nil {
			return "", err
		}
		c.pos += total
	}
	return c.ck.nameAt(off)
}

// maxNameLen bounds an element or attribute name: real ones are a few dozen
// characters; a longer "name" is other data, not worth decoding.
const maxNameLen = 512

func (ck *chunk) nameAt(off uint32) (string, error) {
	if s, ok := ck.names[off]; ok {
		if s == "" {
			return "", fmt.Errorf("corrupt string table entry at offset %d", off)
		}
		return s, nil
	}
	if uint64(off)+8 > uint64(len(ck.data)) || off < chunkHeaderSize {
		return "", fmt.Errorf("name offset %d outside chunk", off)
	}
	n := uint32(binary.LittleEndian.Uint16(ck.data[off+6:]))
	if n > maxNameLen || uint64(off)+8+2*uint64(n) > uint64(len(ck.data)) {
		ck.names[off] = "" // remembered as unreadable
		return "", fmt.Errorf("name at offset %d runs past chunk", off)
	}
	s := utf16String(ck.data[off+8 : off+8+2*n])
	if !validName(s) {
		ck.names[off] = ""
		return "", fmt.Errorf("corrupt string table entry at offset %d", off)
	}
	ck.names[off] = s
	return s, nil
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == '<' || r == '>' || r == '"' || r == '\'' || r == '&' || r == 0xfffd {
			return false
		}
	}
	return true
}

// parseContent reads tokens until EOF or an end-element token, returning the
// content items. inTemplate selects the element header variant that carries a
// dependency identifier.
func (c *cursor) parseContent(inTemplate bool, depth int) ([]item, error) {
	if depth > maxDepth {
		return nil, errors.New("XML nesting too deep")
	}
	var out []item
	for c.pos < c.end {
		if c.ck.work++; c.ck.work > maxChunkWork {
			return nil, errors.New("decoding effort limit reached (hostile or corrupt chunk)")
		}
		tok, err := c.u8()
		if err != nil {
			return nil, err
		}
		switch tok & 0xbf {
		case tokEOF:
			return out, nil
		case tokFragment:
			if err := c.need(3); err != nil {
				return nil, err
			}
			c.pos += 3
		case tokOpenStart:
			e, err := c.parseElement(tok&0x40 != 0, inTemplate, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, item{kind: tokOpenStart, elem: e})
		case tokEndElement:
			return out, nil
		case tokCloseStart, tokCloseEmpty:
			return nil, fmt.Errorf("unexpected token 0x%02x at chunk offset %d", tok, c.pos-1)
		case tokValue, tokCDATA, tokCharRef, tokEntityRef, tokNormalSubst, tokOptionalSubst:
			it, err := c.parseValueToken(tok)
			if err != nil {
				return nil, err
			}
			out = append(out, it)
		case tokPITarget:
			if _, err := c.name(); err != nil {
				return nil, err
			}
		case tokPIData:
			if _, err := c.lenString(); err != nil {
				return nil, err
			}
		case tokTemplate:
			nodes, err := c.parseTemplateInstance(depth + 1)
			if err != nil {
				return nil, err
			}
			out = append(out, item{kind: tokTemplate, nodes: nodes})
		default:
			return nil, fmt.Errorf("unknown binary XML token 0x%02x at chunk offset %d", tok, c.pos-1)
		}
	}
	return out, nil
}

func (c *cursor) parseValueToken(tok byte) (item, error) {
	switch tok & 0xbf {
	case tokValue:
		t, err := c.u8()
		if err != nil {
			return item{}, err
		}
		if t != 0x01 {
			return item{}, fmt.Errorf("value token of type 0x%02x (only strings expected)", t)
		}
		s, err := c.lenString()
		return item{kind: tokValue, text: s}, err
	case tokCDATA:
		s, err := c.lenString()
		return item{kind: tokValue, text: s}, err
	case tokCharRef:
		v, err := c.u16()
		return item{kind: tokValue, text: string(rune(v))}, err
	case tokEntityRef:
		n, err := c.name()
		return item{kind: tokValue, text: entity(n)}, err
	case tokNormalSubst, tokOptionalSubst:
		id, err := c.u16()
		if err != nil {
			return item{}, err
		}
		// The declared type: the instance's descriptor is authoritative, but a
		// template whose declared types disagree with an instance is not its.
		typ, err := c.u8()
		if err != nil {
			return item{}, err
		}
		return item{kind: tokNormalSubst, sub: int(id), subType: typ, optional: tok == tokOptionalSubst}, nil
	}
	return item{}, fmt.Errorf("token 0x%02x is not a value", tok)
}

func entity(name string) string {
	switch name {
	case "amp":
		return "&"
	case "lt":
		return "<"
	case "gt":
		return ">"
	case "quot":
		return `"`
	case "apos":
		return "'"
	}
	return "&" + name + ";"
}

func (c *cursor) parseElement(hasAttrs, inTemplate bool, depth int) (*elem, error) {
	if depth > maxDepth {
		return nil, errors.New("XML nesting too deep")
	}
	if inTemplate {
		if _, err := c.u16(); err != nil { // dependency identifier
			return nil, err
		}
	}
	if _, err := c.u32(); err != nil { // data size
		return nil, err
	}
	name, err := c.name()
	if err != nil {
		return nil, err
	}
	e := &elem{name: name}
	if hasAttrs {
		if _, err := c.u32(); err != nil { // attribute list size
			return nil, err
		}
		for {
			tok, err := c.u8()
			if err != nil {
				return nil, err
			}
			if tok&0xbf != tokAttribute {
				c.pos--
				break
			}
			an, err := c.name()
			if err != nil {
				return nil, err
			}
			a := attrT{name: an}
			// Attribute values are a run of value tokens.
			for c.pos < c.end {
				vt := c.ck.data[c.pos]
				switch vt & 0xbf {
				case tokValue, tokCDATA, tokCharRef, tokEntityRef, tokNormalSubst, tokOptionalSubst:
					c.pos++
					it, err := c.parseValueToken(vt)
					if err != nil {
						return nil, err
					}
					a.value = append(a.value, it)
					continue
				}
				break
			}
			e.attrs = append(e.attrs, a)
			if tok&0x40 == 0 {
				break
			}
		}
	}
	tok, err := c.u8()
	if err != nil {
		return nil, err
	}
	switch tok {
	case tokCloseEmpty:
		return e, nil
	case tokCloseStart:
		content, err := c.parseContent(inTemplate, depth)
		if err != nil {
			return nil, err
		}
		e.content = content
		return e, nil
	}
	return nil, fmt.Errorf("element %q: expected close token, got 0x%02x at chunk offset %d", name, tok, c.pos-1)
}

// parseTemplateInstance reads a template instance: a reference to a template
// definition (inline the first time in a chunk), then its substitution values.
func (c *cursor) parseTemplateInstance(depth int) ([]*Node, error) {
	tmpl, vals, release, err := c.readInstance(depth)
	if err != nil {
		return nil, err
	}
	defer release()
	return c.ck.instantiate(tmpl, vals)
}

// readInstance reads a template instance: the template it refers to and its
// decoded substitution values. release gives the value buffers back.
func (c *cursor) readInstance(depth int) ([]item, []value, func(), error) {
	noop := func() {}
	if _, err := c.u8(); err != nil {
		return nil, nil, noop, err
	}
	id, err := c.u32() // the first 32 bits of the template's GUID
	if err != nil {
		return nil, nil, noop, err
	}
	defOff, err := c.u32()
	if err != nil {
		return nil, nil, noop, err
	}
	tmpl, err := c.ck.template(defOff, id, depth)
	if err != nil {
		return nil, nil, noop, err
	}
	if defOff == c.pos {
		if err := c.need(24); err != nil {
			return nil, nil, noop, err
		}
		size := binary.LittleEndian.Uint32(c.ck.data[c.pos+20:])
		if err := c.need(24 + uint64(size)); err != nil {
			return nil, nil, noop, err
		}
		c.pos += 24 + size
	}
	count, err := c.u32()
	if err != nil {
		return nil, nil, noop, err
	}
	if err := c.need(4 * uint64(count)); err != nil {
		return nil, nil, noop, fmt.Errorf("template instance declares %d substitutions: %w", count, err)
	}
	var descs []valueDesc
	var vals []value
	release := noop
	if !c.ck.inUse {
		c.ck.inUse = true
		release = func() { c.ck.inUse = false }
		if cap(c.ck.descBuf) < int(count) {
			c.ck.descBuf = make([]valueDesc, count)
			c.ck.valBuf = make([]value, count)
		}
		descs, vals = c.ck.descBuf[:count], c.ck.valBuf[:count]
		clear(vals)
	} else {
		descs, vals = make([]valueDesc, count), make([]value, count)
	}
	for i := range descs {
		descs[i].size, _ = c.u16()
		descs[i].typ, _ = c.u8()
		c.pos++
	}
	if len(tmpl) > 0 && c.ck.lenientTemplates[&tmpl[0]] {
		if !compatible(tmpl, descs) {
			release()
			return nil, nil, noop, errNeedTemplate{id}
		}
		c.ck.lenientUsed = true
	}
	for i, d := range descs {
		if err := c.need(uint64(d.size)); err != nil {
			release()
			return nil, nil, noop, fmt.Errorf("substitution %d: %w", i, err)
		}
		raw := c.ck.data[c.pos : c.pos+uint32(d.size)]
		v, err := c.ck.decodeValue(d.typ, raw, c.pos, depth)
		if err != nil {
			release()
			return nil, nil, noop, fmt.Errorf("substitution %d: %w", i, err)
		}
		if v.bx {
			c.ck.primeEmbedded(&v)
		}
		vals[i] = v
		c.pos += uint32(d.size)
	}
	return tmpl, vals, release, nil
}

// compatible checks a template found at an offset whose id differs against
// the instance's values: every substitution it uses exists, with the type it
// declares (a null value fits any type).
func compatible(items []item, descs []valueDesc) bool {
	ok := true
	var walk func([]item)
	check := func(it item) {
		if it.kind != tokNormalSubst {
			return
		}
		if it.sub >= len(descs) {
			ok = false
			return
		}
		if t := descs[it.sub].typ; t != tNull && it.subType != tNull && t != it.subType {
			ok = false
		}
	}
	walk = func(list []item) {
		for _, it := range list {
			check(it)
			if it.elem != nil {
				for _, a := range it.elem.attrs {
					for _, v := range a.value {
						check(v)
					}
				}
				walk(it.elem.content)
			}
		}
	}
	walk(items)
	return ok
}

// primeEmbedded reads the template an embedded value defines inline, so that
// later records referring to it find it even if this record fails to decode
// (the first record of a chunk's generation defines what the others use).
func (ck *chunk) primeEmbedded(v *value) {
	pos := v.bxStart
	if pos+4 <= v.bxEnd && ck.data[pos] == tokFragment {
		pos += 4
	}
	if pos+10 > v.bxEnd || ck.data[pos]&0xbf != tokTemplate {
		return
	}
	id := binary.LittleEndian.Uint32(ck.data[pos+2:])
	defOff := binary.LittleEndian.Uint32(ck.data[pos+6:])
	if defOff == pos+10 {
		ck.template(defOff, id, v.bxDepth+1)
	}
}

// template returns the template a record's instance refers to: the
// definition at off in this chunk when it is there and carries the same id,
// else the same template read in another chunk of the file.
func (ck *chunk) template(off, id uint32, depth int) ([]item, error) {
	key := uint64(off)<<32 | uint64(id)
	if t, ok := ck.templates[key]; ok {
		return t, nil
	}
	if ck.badTemplates[key] {
		if t, ok := ck.registry[id]; ok && id != 0 {
			return t, nil
		}
		return nil, errNeedTemplate{id}
	}
	items, err := ck.parseTemplate(off, id, depth)
	if err == nil {
		return items, nil
	}
	if _, loop := err.(errTemplateLoop); !loop {
		ck.badTemplates[key] = true // not parsed again for the next record
	}
	if t, ok := ck.registry[id]; ok && id != 0 {
		return t, nil
	}
	if _, loop := err.(errTemplateLoop); loop {
		return nil, err
	}
	if ck.lenient {
		// Last resort, once the whole file's templates are known: the
		// definition that is at the offset, whatever its id (records of an
		// older generation of a chunk refer to offsets a newer one reused;
		// libevtx reads them the same way). The record must then prove
		// itself: its EventRecordID must equal its header's.
		if items, err := ck.parseTemplate(off, 0, depth); err == nil {
			ck.templates[key] = items
			if len(items) > 0 {
				ck.lenientTemplates[&items[0]] = true
			}
			return items, nil
		}
	}
	return nil, errNeedTemplate{id}
}

type errTemplateLoop struct{ off uint32 }

func (e errTemplateLoop) Error() string {
	return fmt.Sprintf("template at offset %d refers to itself", e.off)
}

func (ck *chunk) parseTemplate(off, id uint32, depth int) ([]item, error) {
	if ck.building[off] {
		return nil, errTemplateLoop{off}
	}
	if uint64(off)+24 > uint64(len(ck.data)) || off < chunkHeaderSize {
		return nil, fmt.Errorf("template definition offset %d outside chunk", off)
	}
	// The definition repeats the id as the first 32 bits of its GUID: a
	// definition overwritten by other data does not.
	if got := binary.LittleEndian.Uint32(ck.data[off+4:]); id != 0 && got != id {
		return nil, fmt.Errorf("template at offset %d has id 0x%08x, not 0x%08x", off, got, id)
	}
	ck.building[off] = true
	defer delete(ck.building, off)
	size := binary.LittleEndian.Uint32(ck.data[off+20:])
	start := off + 24
	if uint64(start)+uint64(size) > uint64(len(ck.data)) {
		return nil, fmt.Errorf("template at offset %d runs past chunk", off)
	}
	tc := &cursor{ck: ck, pos: start, end: start + size}
	items, err := tc.parseContent(true, depth)
	if err != nil {
		return nil, fmt.Errorf("template at offset %d: %w", off, err)
	}
	ck.templates[uint64(off)<<32|uint64(id)] = items
	if id != 0 {
		ck.byID[id] = items
	}
	return items, nil
}

// embedded instantiates an embedded Binary XML value (once) into nodes.
func (ck *chunk) embedded(vals []value, i int) ([]*Node, error) {
	v := &vals[i]
	if !v.bx || v.nodes != nil {
		return v.nodes, nil
	}
	c := &cursor{ck: ck, pos: v.bxStart, end: v.bxEnd}
	items, err := c.parseContent(false, v.bxDepth+1)
	if err != nil {
		return nil, fmt.Errorf("embedded binary XML: %w", err)
	}
	nodes, err := ck.instantiate(items, nil)
	if err != nil {
		return nil, err
	}
	if nodes == nil {
		nodes = []*Node{}
	}
	v.nodes = nodes
	return nodes, nil
}

// instantiate builds concrete nodes from template items and substitution values.
func (ck *chunk) instantiate(items []item, vals []value) ([]*Node, error) {
	var out []*Node
	for _, it := range items {
		switch it.kind {
		case tokOpenStart:
			var err error
			out, err = ck.appendElem(out, it.elem, vals)
			if err != nil {
				return nil, err
			}
		case tokTemplate:
			out = append(out, it.nodes...)
		case tokNormalSubst:
			if it.sub < len(vals) {
				ns, err := ck.embedded(vals, it.sub)
				if err != nil {
					return nil, err
				}
				out = append(out, ns...)
			}
		}
	}
	return out, nil
}

// arrayContent returns the array value when an element's whole content is one
// array substitution: Windows renders such an element once per item.
func arrayContent(e *elem, vals []value) ([]string, bool) {
	if len(e.content) != 1 || e.content[0].kind != tokNormalSubst || e.content[0].sub >= len(vals) {
		return nil, false
	}
	v := vals[e.content[0].sub]
	return v.items, v.typ&tArray != 0 && !v.null
}

// appendElem instantiates one element (several for an array substitution)
// and appends it to dst.
func (ck *chunk) appendElem(dst []*Node, e *elem, vals []value) ([]*Node, error) {
	n := ck.arena.node()
	n.Name = e.name
	if len(e.attrs) > 0 {
		n.Attrs = ck.arena.attrList(len(e.attrs))
	}
	for _, a := range e.attrs {
		if len(a.value) == 1 && a.value[0].kind == tokNormalSubst && a.value[0].sub < len(vals) {
			v := vals[a.value[0].sub]
			if !(v.null && a.value[0].optional) {
				n.Attrs = append(n.Attrs, Attr{Name: a.name, Value: v.text})
			}
			continue
		}
		var sb strings.Builder
		present := len(a.value) == 0
		for _, it := range a.value {
			switch it.kind {
			case tokValue:
				sb.WriteString(it.text)
				present = true
			case tokNormalSubst:
				if it.sub >= len(vals) {
					return nil, fmt.Errorf("substitution %d missing (instance has %d)", it.sub, len(vals))
				}
				v := vals[it.sub]
				// An optional substitution that is empty removes its attribute, as Windows renders it.
				if v.null && it.optional {
					continue
				}
				sb.WriteString(v.text)
				present = true
			}
		}
		if present {
			n.Attrs = append(n.Attrs, Attr{Name: a.name, Value: sb.String()})
		}
	}
	if items, ok := arrayContent(e, vals); ok {
		for _, s := range items {
			m := ck.arena.node()
			*m = Node{Name: n.Name, Attrs: n.Attrs, Text: s}
			dst = append(dst, m)
		}
		return dst, nil
	}
	if len(e.content) == 1 && e.content[0].kind == tokNormalSubst && e.content[0].sub < len(vals) && !vals[e.content[0].sub].bx {
		n.Text = vals[e.content[0].sub].text // the common case: <Data>%n</Data>
		return append(dst, n), nil
	}
	if len(e.content) == 1 && e.content[0].kind == tokValue {
		n.Text = e.content[0].text
		return append(dst, n), nil
	}
	elems := 0
	for _, it := range e.content {
		if it.kind == tokOpenStart {
			elems++
		}
	}
	if elems > 0 {
		n.Children = ck.arena.childList(elems)
	}
	var text strings.Builder
	for _, it := range e.content {
		switch it.kind {
		case tokValue:
			text.WriteString(it.text)
		case tokNormalSubst:
			if it.sub >= len(vals) {
				return nil, fmt.Errorf("substitution %d missing (instance has %d)", it.sub, len(vals))
			}
			if v := vals[it.sub]; v.bx {
				ns, err := ck.embedded(vals, it.sub)
				if err != nil {
					return nil, err
				}
				n.Children = append(n.Children, ns...)
			} else {
				text.WriteString(v.text)
			}
		case tokOpenStart:
			var err error
			n.Children, err = ck.appendElem(n.Children, it.elem, vals)
			if err != nil {
				return nil, err
			}
		case tokTemplate:
			n.Children = append(n.Children, it.nodes...)
		}
	}
	n.Text = text.String()
	return append(dst, n), nil
}

// Value types (MS-EVEN6 §2.2.18 / libevtx).
const (
	tNull     = 0x00
	tString   = 0x01
	tAnsi     = 0x02
	tInt8     = 0x03
	tUint8    = 0x04
	tInt16    = 0x05
	tUint16   = 0x06
	tInt32    = 0x07
	tUint32   = 0x08
	tInt64    = 0x09
	tUint64   = 0x0a
	tReal32   = 0x0b
	tReal64   = 0x0c
	tBool     = 0x0d
	tBinary   = 0x0e
	tGUID     = 0x0f
	tSizeT    = 0x10
	tFiletime = 0x11
	tSystime  = 0x12
	tSID      = 0x13
	tHex32    = 0x14
	tHex64    = 0x15
	tHandle   = 0x20
	tBinXML   = 0x21
	tEvtXML   = 0x23
	tArray    = 0x80
)

func (ck *chunk) decodeValue(typ byte, raw []byte, pos uint32, depth int) (value, error) {
	if typ == tNull || len(raw) == 0 && typ != tBinXML {
		return value{typ: typ, null: true}, nil
	}
	if typ == tBinXML {
		return value{typ: typ, bx: true, bxStart: pos, bxEnd: pos + uint32(len(raw)), bxDepth: depth}, nil
	}
	if typ&tArray != 0 {
		parts, err := arrayValues(typ&^tArray, raw)
		if err != nil {
			return value{}, err
		}
		return value{typ: typ, text: strings.Join(parts, ","), items: parts}, nil
	}
	s, err := scalar(typ, raw)
	return value{typ: typ, text: s}, err
}

func arrayValues(typ byte, raw []byte) ([]string, error) {
	var out []string
	switch typ {
	case tString:
		for _, s := range strings.Split(utf16String(raw), "\x00") {
			out = append(out, s)
		}
		for len(out) > 0 && out[len(out)-1] == "" {
			out = out[:len(out)-1]
		}
		return out, nil
	case tAnsi:
		for _, s := range strings.Split(strings.TrimRight(string(raw), "\x00"), "\x00") {
			out = append(out, s)
		}
		return out, nil
	}
	w := fixedWidth(typ, len(raw))
	if w == 0 || len(raw)%w != 0 {
		return nil, fmt.Errorf("array of type 0x%02x has %d bytes", typ, len(raw))
	}
	for i := 0; i < len(raw); i += w {
		s, err := scalar(typ, raw[i:i+w])
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func fixedWidth(typ byte, n int) int {
	switch typ {
	case tInt8, tUint8:
		return 1
	case tInt16, tUint16:
		return 2
	case tInt32, tUint32, tReal32, tBool, tHex32:
		return 4
	case tInt64, tUint64, tReal64, tFiletime, tHex64:
		return 8
	case tGUID, tSystime:
		return 16
	case tSizeT:
		if n%8 == 0 {
			return 8
		}
		return 4
	}
	return 0
}

func scalar(typ byte, b []byte) (string, error) {
	le := binary.LittleEndian
	need := func(n int) error {
		if len(b) < n {
			return fmt.Errorf("value of type 0x%02x needs %d bytes, has %d", typ, n, len(b))
		}
		return nil
	}
	switch typ {
	case tString:
		return strings.TrimRight(utf16String(b), "\x00"), nil
	case tAnsi:
		return strings.TrimRight(string(b), "\x00"), nil
	case tInt8:
		return strconv.Itoa(int(int8(b[0]))), nil
	case tUint8:
		return strconv.Itoa(int(b[0])), nil
	case tInt16:
		if err := need(2); err != nil {
			return "", err
		}
		return strconv.Itoa(int(int16(le.Uint16(b)))), nil
	case tUint16:
		if err := need(2); err != nil {
			return "", err
		}
		return strconv.Itoa(int(le.Uint16(b))), nil
	case tInt32:
		if err := need(4); err != nil {
			return "", err
		}
		return strconv.Itoa(int(int32(le.Uint32(b)))), nil
	case tUint32:
		if err := need(4); err != nil {
			return "", err
		}
		return strconv.FormatUint(uint64(le.Uint32(b)), 10), nil
	case tInt64:
		if err := need(8); err != nil {
			return "", err
		}
		return strconv.FormatInt(int64(le.Uint64(b)), 10), nil
	case tUint64:
		if err := need(8); err != nil {
			return "", err
		}
		return strconv.FormatUint(le.Uint64(b), 10), nil
	case tReal32:
		if err := need(4); err != nil {
			return "", err
		}
		return strconv.FormatFloat(float64(math.Float32frombits(le.Uint32(b))), 'g', -1, 32), nil
	case tReal64:
		if err := need(8); err != nil {
			return "", err
		}
		return strconv.FormatFloat(math.Float64frombits(le.Uint64(b)), 'g', -1, 64), nil
	case tBool:
		if err := need(1); err != nil {
			return "", err
		}
		// Any non-zero value is true: some writers store 0xFFFFFFFF or other non-canonical values.
		for _, x := range b {
			if x != 0 {
				return "true", nil
			}
		}
		return "false", nil
	case tBinary, tHandle:
		const hexUpper = "0123456789ABCDEF"
		out := make([]byte, 2*len(b))
		for i, x := range b {
			out[2*i], out[2*i+1] = hexUpper[x>>4], hexUpper[x&15]
		}
		return string(out), nil
	case tGUID:
		if err := need(16); err != nil {
			return "", err
		}
		return formatGUID(b), nil
	case tSizeT, tHex32, tHex64:
		switch {
		case len(b) >= 8:
			return "0x" + strconv.FormatUint(le.Uint64(b), 16), nil
		case len(b) >= 4:
			return "0x" + strconv.FormatUint(uint64(le.Uint32(b)), 16), nil
		}
		return "", fmt.Errorf("hex value has %d bytes", len(b))
	case tFiletime:
		if err := need(8); err != nil {
			return "", err
		}
		return FormatTime(filetime(le.Uint64(b))), nil
	case tSystime:
		if err := need(16); err != nil {
			return "", err
		}
		t := time.Date(int(le.Uint16(b)), time.Month(le.Uint16(b[2:])), int(le.Uint16(b[6:])),
			int(le.Uint16(b[8:])), int(le.Uint16(b[10:])), int(le.Uint16(b[12:])), int(le.Uint16(b[14:]))*1e6, time.UTC)
		return FormatTime(t), nil
	case tSID:
		return formatSID(b)
	case tEvtXML:
		return strings.TrimRight(utf16String(b), "\x00"), nil
	}
	return "", fmt.Errorf("unknown value type 0x%02x", typ)
}

// FormatTime renders a time the way Windows renders SystemTime: UTC, 100 ns precision.
func FormatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.0000000Z")
}

func formatGUID(b []byte) string {
	const hexd = "0123456789ABCDEF"
	var out [38]byte
	o := 0
	put := func(x byte) {
		out[o], out[o+1] = hexd[x>>4], hexd[x&15]
		o += 2
	}
	out[o] = '{'
	o++
	// The first three groups are little-endian integers, the rest bytes in order.
	for _, i := range []int{3, 2, 1, 0} {
		put(b[i])
	}
	out[o] = '-'
	o++
	put(b[5])
	put(b[4])
	out[o] = '-'
	o++
	put(b[7])
	put(b[6])
	out[o] = '-'
	o++
	put(b[8])
	put(b[9])
	out[o] = '-'
	o++
	for _, x := range b[10:16] {
		put(x)
	}
	out[o] = '}'
	return string(out[:])
}

func formatSID(b []byte) (string, error) {
	if len(b) < 8 {
		return "", fmt.Errorf("SID has %d bytes", len(b))
	}
	n := int(b[1])
	if len(b) < 8+4*n {
		return "", fmt.Errorf("SID declares %d sub-authorities in %d bytes", n, len(b))
	}
	var auth uint64
	for _, x := range b[2:8] {
		auth = auth<<8 | uint64(x)
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "S-%d-%d", b[0], auth)
	for i := 0; i < n; i++ {
		fmt.Fprintf(&sb, "-%d", binary.LittleEndian.Uint32(b[8+4*i:]))
	}
	return sb.String(), nil
}

func utf16String(b []byte) string {
	// Fast path: most strings in event logs are ASCII.
	ascii := true
	for i := 0; i+1 < len(b); i += 2 {
		if b[i+1] != 0 || b[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		var sb strings.Builder
		sb.Grow(len(b) / 2)
		for i := 0; i+1 < len(b); i += 2 {
			sb.WriteByte(b[i])
		}
		return sb.String()
	}
	out := make([]byte, 0, len(b)+len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		r := rune(binary.LittleEndian.Uint16(b[i:]))
		if utf16.IsSurrogate(r) && i+3 < len(b) {
			if r2 := rune(binary.LittleEndian.Uint16(b[i+2:])); utf16.IsSurrogate(r2) {
				if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
					out = utf8.AppendRune(out, dec)
					i += 2
					continue
				}
			}
		}
		if utf16.IsSurrogate(r) {
			r = utf8.RuneError
		}
		out = utf8.AppendRune(out, r)
	}
	return string(out)
}

func (c *cursor) lenString() (string, error) {
	n, err := c.u16()
	if err != nil {
		return "", err
	}
	if err := c.need(2 * uint64(n)); err != nil {
		return "", err
	}
	s := utf16String(c.ck.data[c.pos : c.pos+2*uint32(n)])
	c.pos += 2 * uint32(n)
	return s, nil
}
