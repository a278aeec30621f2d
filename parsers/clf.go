package parsers

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// CLF reads Common and Combined Log Format access logs: Squid's "common"
// format (with its result code appended), web servers, and the FortiGate
// SSL-VPN web portal. The byte count is what the server or proxy sent to the client.
type CLF struct{}

func (CLF) Name() string { return "clf" }
func (CLF) Description() string {
	return "Common / Combined Log Format access logs (Squid common, web servers, VPN portals)"
}

var clfLine = regexp.MustCompile(`^(\S+) (\S+) (\S+) \[([^\]]+)\] "([A-Z]+|-) ?(\S*)(?: (HTTP/[0-9.]+))?" (\d{3}|-) (\d+|-)(?: "([^"]*)" "([^"]*)")?(?: (\S+:\S+))?`)

func (CLF) Detect(head []byte) bool {
	return mostLines(head, CLF{}.matchLine)
}

func (CLF) matchLine(l string) bool { return clfLine.MatchString(l) }

func (CLF) NewDecoder(o *Options) LineDecoder { return clfDecoder{} }

type clfDecoder struct{}

func (clfDecoder) Flush(Emit) {}

func (clfDecoder) Line(no int64, line []byte, emit Emit) error {
	m := clfLine.FindStringSubmatch(string(line))
	if m == nil {
		return fmt.Errorf("clf: not a Common Log Format line")
	}
	t, err := time.Parse("02/Jan/2006:15:04:05 -0700", m[4])
	if err != nil {
		return fmt.Errorf("clf: time %q", m[4])
	}
	ev := event.New()
	ev.Timestamp = t.UTC()
	ev.Fields[event.FieldDataset] = "clf"
	ev.Fields[event.FieldOriginal] = string(line)
	ev.Fields[event.FieldLine] = no
	ev.Fields["event.category"] = []string{"web", "network"}
	setIP(ev, "source.ip", m[1])
	if m[3] != "-" {
		ev.Set("user.name", m[3])
	}
	ev.Set("http.request.method", m[5])
	ev.Set("url.original", m[6])
	if u, err := url.Parse(m[6]); err == nil {
		ev.Set("url.path", u.Path)
		if u.Host != "" {
			ev.Set("url.domain", u.Hostname())
			ev.Set("destination.domain", u.Hostname())
		}
	}
	ev.Set("http.version", strings.TrimPrefix(m[7], "HTTP/"))
	if n, err := strconv.ParseInt(m[8], 10, 64); err == nil {
		ev.SetInt("http.response.status_code", n)
		if n >= 400 {
			ev.Set("event.outcome", "failure")
		} else {
			ev.Set("event.outcome", "success")
		}
	}
	if n, err := strconv.ParseInt(m[9], 10, 64); err == nil {
		ev.SetInt("http.response.bytes", n)
		ev.SetInt("destination.bytes", n)
	}
	ev.Set("http.request.referrer", strings.Trim(m[10], "-"))
	ev.Set("user_agent.original", strings.Trim(m[11], "-"))
	if m[12] != "" { // Squid common format: TCP_MISS:HIER_DIRECT
		code, hier, _ := strings.Cut(m[12], ":")
		ev.Set("squid.result_code", code)
		ev.Set("squid.hierarchy_code", hier)
	}
	ev.Set("event.action", strings.ToLower(m[5]))
	if m[5] == "POST" || m[5] == "PUT" || m[5] == "CONNECT" {
		ev.Fields["tags"] = []string{"possible_upload_size_not_logged"}
	}
	emit(ev, linePos(no))
	return nil
}
