package parsers

import (
	"strings"
	"testing"
	"time"
)

// TestStructuredDataCutAfterBackslash: an RFC 5424 line cut inside its
// structured data right after a backslash (FuzzMixedRelay's find) reads
// with the rest of the line as structured data, without a panic.
func TestStructuredDataCutAfterBackslash(t *testing.T) {
	c := syslogClock{Year: 2025, Loc: time.UTC}
	for _, line := range []string{
		`<14>1 2025-03-14T23:41:02Z fw RT_FLOW - RT_FLOW_SESSION_CLOSE [junos@2636 reason="TCP FIN\`,
		`<14>1 2025-03-14T23:41:02Z fw RT_FLOW - - [a@1 k="v\\`,
		`<14>1 2025-03-14T23:41:02Z fw app - - [\`,
	} {
		h, err := c.peek(line)
		if err != nil {
			t.Errorf("%q: %v", line, err)
			continue
		}
		if !strings.HasPrefix(h.SD, "[") || h.Msg != "" || !h.Time.Equal(time.Date(2025, 3, 14, 23, 41, 2, 0, time.UTC)) {
			t.Errorf("%q: SD %q, message %q, time %v", line, h.SD, h.Msg, h.Time)
		}
	}
}
