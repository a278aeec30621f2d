package parsers

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/exfiltrace/exfiltrace/event"
	"github.com/exfiltrace/exfiltrace/internal/corpus"
)

// TestPostfixGrokCases runs the message part of each whyscream/postfix-grok
// test case through the Postfix decoder (behind a syslog header naming the
// component of its pattern) and checks the values exfiltrace keeps:
// addresses, ports, hostnames and queue ids.
func TestPostfixGrokCases(t *testing.T) {
	dir := corpus.Dir(t, "mail/postfix/whyscream-grok-tests")
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	fields := map[string][]string{ // theirs → ours (any of)
		"postfix_client_ip":       {"source.ip"},
		"postfix_client_hostname": {"source.domain"},
		"postfix_client_port":     {"source.port"},
		"postfix_queueid":         {"postfix.queue_id"},
		"postfix_relay_ip":        {"destination.ip", "postfix.relay_ip"},
		"postfix_relay_hostname":  {"destination.domain", "postfix.relay"},
	}
	component := regexp.MustCompile(`POSTFIX_([A-Z_]+)`)
	checked, failed := 0, 0
	for _, f := range files {
		b, _ := os.ReadFile(f)
		var tc struct {
			Pattern string         `yaml:"pattern"`
			Data    string         `yaml:"data"`
			Results map[string]any `yaml:"results"`
		}
		if err := yaml.Unmarshal(b, &tc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		m := component.FindStringSubmatch(tc.Pattern)
		if m == nil {
			continue
		}
		comp := strings.ToLower(m[1])
		if !postfixPrograms[comp] {
			continue // a sub-pattern (POSTFIX_RELAY, …), not a whole log line
		}
		line := "Mar 14 23:00:00 mail postfix/" + comp + "[123]: " + tc.Data
		dec := Postfix{}.NewDecoder(&Options{TZ: time.UTC, Year: 2025})
		var evs []*event.Event
		emit := func(ev *event.Event, _ string) { evs = append(evs, ev) }
		if err := dec.Line(1, []byte(line), emit); err != nil {
			t.Errorf("%s: %v", filepath.Base(f), err)
			continue
		}
		dec.Flush(emit)
		for theirs, want := range tc.Results {
			ours, ok := fields[theirs]
			if !ok {
				continue
			}
			w := strings.Trim(strings.TrimSpace(asAny(want)), "[]")
			if w == "unknown" {
				continue // Postfix's word for "no reverse DNS name": exfiltrace stores no name
			}
			found := false
			for _, ev := range evs {
				for _, o := range ours {
					for _, v := range ev.Strings(o) {
						if sameValue(v, w) {
							found = true
						}
					}
				}
			}
			checked++
			if !found {
				failed++
				t.Errorf("%s: %s = %q not found in %v (line %q)", filepath.Base(f), theirs, w, ours, tc.Data)
			}
		}
	}
	t.Logf("%d postfix-grok values compared, %d missing", checked, failed)
}

func asAny(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case uint64:
		return strings.TrimSpace(strings.Trim(strings.ReplaceAll(yamlNum(x), " ", ""), " "))
	}
	b, _ := yaml.Marshal(v)
	return strings.TrimSpace(string(b))
}

func yamlNum(x uint64) string { b, _ := yaml.Marshal(x); return strings.TrimSpace(string(b)) }

var postfixPrograms = map[string]bool{"smtpd": true, "smtp": true, "lmtp": true, "qmgr": true, "cleanup": true, "bounce": true,
	"local": true, "pipe": true, "postscreen": true, "anvil": true, "dnsblog": true, "tlsproxy": true, "tlsmgr": true, "scache": true,
	"pickup": true, "postsuper": true, "master": true, "error": true, "discard": true, "virtual": true, "trivial_rewrite": true,
	"verify": true, "sendmail": true, "postmap": true}
