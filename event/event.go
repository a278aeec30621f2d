// Package event is the one event model every parser produces: Elastic Common
// Schema (ECS) field names in dotted form, plus the provenance that makes an
// event usable as evidence.
package event

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"time"
)

// Provenance field names, present on every event.
const (
	FieldID       = "event.id"        // deterministic: evidence hash + position
	FieldFile     = "log.file.path"   // evidence file as given to ingest
	FieldSHA256   = "evidence.sha256" // SHA-256 of the evidence file
	FieldLine     = "evidence.line"   // 1-based line in the (decompressed) file
	FieldRecord   = "evidence.record" // EVTX record id / XML event ordinal
	FieldOriginal = "event.original"
	FieldDataset  = "event.dataset"
	FieldKind     = "event.kind"
	FieldError    = "error.message"
	// FieldCarved (true) marks an event recovered from outside the live log
	// (an EVTX chunk's slack, a chunk the header no longer counts): often
	// what an intruder cleared. FieldCarveReason says where it was found.
	FieldCarved      = "evidence.carved"
	FieldCarveReason = "evidence.carve_reason"
)

// KindRaw marks an input line kept verbatim because it could not be parsed.
// ECS calls this kind "pipeline_error".
const KindRaw = "pipeline_error"

// Event is one normalized event. Fields maps ECS dotted names to string,
// int64, float64, bool or []string values.
type Event struct {
	Timestamp time.Time
	Fields    map[string]any
	reusable  bool // from NewReusable: Recycle may take it back
}

// New returns an event with room for a typical number of fields.
func New() *Event {
	return &Event{Fields: make(map[string]any, 48)}
}

// Set stores a string field; empty values and Windows' "-" placeholder are not stored.
func (e *Event) Set(k, v string) {
	if v == "" || v == "-" {
		return
	}
	e.Fields[k] = v
}

// SetInt stores an integer field.
func (e *Event) SetInt(k string, v int64) { e.Fields[k] = v }

// SetIntString stores a decimal or 0x-hex string as an integer; a value that
// is not a number is kept as a string so nothing is lost.
func (e *Event) SetIntString(k, v string) {
	if v == "" || v == "-" {
		return
	}
	if n, err := ParseInt(v); err == nil {
		e.Fields[k] = n
		return
	}
	e.Fields[k] = v
}

// ParseInt parses decimal or 0x-prefixed hexadecimal integers.
func ParseInt(v string) (int64, error) {
	if len(v) > 2 && (v[:2] == "0x" || v[:2] == "0X") {
		u, err := strconv.ParseUint(v[2:], 16, 64)
		return int64(u), err
	}
	return strconv.ParseInt(v, 10, 64)
}

// Add appends to a multi-valued string field, skipping duplicates.
func (e *Event) Add(k, v string) {
	if v == "" {
		return
	}
	switch cur := e.Fields[k].(type) {
	case nil:
		e.Fields[k] = []string{v}
	case []string:
		for _, x := range cur {
			if x == v {
				return
			}
		}
		e.Fields[k] = append(cur, v)
	case string:
		if cur != v {
			e.Fields[k] = []string{cur, v}
		}
	}
}

// Str returns a field as a string ("" if absent); numbers are formatted.
func (e *Event) Str(k string) string {
	switch v := e.Fields[k].(type) {
	case string:
		return v
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case []string:
		if len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

// Int returns a numeric field, and whether it was present and numeric.
func (e *Event) Int(k string) (int64, bool) {
	switch v := e.Fields[k].(type) {
	case int64:
		return v, true
	case float64:
		return int64(v), true
	case string:
		n, err := ParseInt(v)
		return n, err == nil
	}
	return 0, false
}

// Strings returns a field as a list of strings.
func (e *Event) Strings(k string) []string {
	switch v := e.Fields[k].(type) {
	case []string:
		return v
	case nil:
		return nil
	}
	if s := e.Str(k); s != "" {
		return []string{s}
	}
	return nil
}

// ID derives the deterministic event id from the evidence hash and the
// event's position (line or record, plus an ordinal for several events from
// one position), so re-ingesting a file yields the same ids.
func ID(evidenceSHA256 string, position string) string {
	var room [128]byte // a hash in hex, a NUL and a position: no allocation
	b := append(append(append(room[:0], evidenceSHA256...), 0), position...)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:16])
}

// Document returns the event as a flat map ready for indexing or JSON output.
func (e *Event) Document() map[string]any {
	m := make(map[string]any, len(e.Fields)+1)
	for k, v := range e.Fields {
		m[k] = v
	}
	if !e.Timestamp.IsZero() {
		m["@timestamp"] = e.Timestamp.UTC().Format(time.RFC3339Nano)
	}
	return m
}

// MarshalJSON writes the flat document with sorted keys, for stable output.
func (e *Event) MarshalJSON() ([]byte, error) {
	return e.AppendJSON(make([]byte, 0, 1024))
}

// FromDocument rebuilds an event from a stored document.
func FromDocument(doc map[string]any) (*Event, error) {
	e := New()
	for k, v := range doc {
		if k == "@timestamp" {
			s, _ := v.(string)
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				return nil, fmt.Errorf("stored @timestamp %q: %w", s, err)
			}
			e.Timestamp = t
			continue
		}
		switch x := v.(type) {
		case float64:
			if x == float64(int64(x)) {
				e.Fields[k] = int64(x)
			} else {
				e.Fields[k] = x
			}
		case []any:
			ss := make([]string, 0, len(x))
			for _, y := range x {
				ss = append(ss, fmt.Sprint(y))
			}
			e.Fields[k] = ss
		default:
			e.Fields[k] = v
		}
	}
	return e, nil
}

// Keys returns the field names in sorted order.
func (e *Event) Keys() []string {
	ks := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
