package parsers

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// Squid reads Squid access.log in the native format ("time elapsed client
// code/status bytes method URL user hierarchy/peer type"). bytes is what the
// proxy sent to the client; the native format has no request size, so
// uploads are recognised by method (POST/PUT, CONNECT tunnels) but their size
// is only known where the log format adds it (%>st, not parsed here).
type Squid struct{}

func (Squid) Name() string        { return "squid" }
func (Squid) Description() string { return "Squid access.log (native format)" }

func (Squid) Detect(head []byte) bool {
	return mostLines(head, Squid{}.matchLine)
}

func (Squid) matchLine(l string) bool {
	f := strings.Fields(l)
	if len(f) < 10 || !strings.Contains(f[3], "/") {
		return false
	}
	_, err := strconv.ParseFloat(f[0], 64)
	return err == nil && strings.Contains(f[8], "/")
}

func (Squid) NewDecoder(o *Options) LineDecoder { return squidDecoder{} }

type squidDecoder struct{}

func (squidDecoder) Flush(Emit) {}

func (squidDecoder) Line(no int64, line []byte, emit Emit) error {
	f := strings.Fields(string(line))
	if len(f) < 10 {
		return fmt.Errorf("squid: %d fields, want 10", len(f))
	}
	// "1140701230.827"
	at, err := epochSeconds(f[0])
	if err != nil {
		return fmt.Errorf("squid: time %q", f[0])
	}
	ev := event.New()
	ev.Timestamp = at
	ev.Fields[event.FieldDataset] = "squid"
	ev.Fields[event.FieldOriginal] = string(line)
	ev.Fields[event.FieldLine] = no
	ev.Fields["event.category"] = []string{"web", "network"}
	if ms, err := strconv.ParseInt(f[1], 10, 64); err == nil && ms >= 0 {
		// Squid logs a request when it completes, after elapsed ms.
		ev.SetInt("event.duration", ms*int64(time.Millisecond))
		setSpan(ev, time.Duration(ms)*time.Millisecond)
	}
	setIP(ev, "source.ip", f[2])
	code, status, _ := strings.Cut(f[3], "/")
	ev.Set("squid.result_code", code)
	if n, err := strconv.ParseInt(status, 10, 64); err == nil {
		ev.SetInt("http.response.status_code", n)
	}
	if n, err := strconv.ParseInt(f[4], 10, 64); err == nil {
		ev.SetInt("http.response.bytes", n)
		ev.SetInt("destination.bytes", n) // delivered to the client
	}
	ev.Set("http.request.method", f[5])
	ev.Set("url.original", f[6])
	if f[5] == "CONNECT" {
		host, port, _ := strings.Cut(f[6], ":")
		ev.Set("url.domain", host)
		ev.Set("destination.domain", host)
		setPort(ev, "destination.port", port)
	} else if u, err := url.Parse(f[6]); err == nil && u.Host != "" {
		ev.Set("url.domain", u.Hostname())
		ev.Set("destination.domain", u.Hostname())
	}
	if f[7] != "-" {
		ev.Set("user.name", f[7])
	}
	hier, peer, _ := strings.Cut(f[8], "/")
	ev.Set("squid.hierarchy_code", hier)
	if peer != "-" {
		setIP(ev, "destination.ip", peer)
	}
	ev.Set("http.response.mime_type", f[9])
	ev.Set("event.action", strings.ToLower(f[5]))
	if strings.Contains(code, "DENIED") {
		ev.Set("event.outcome", "failure")
	} else {
		ev.Set("event.outcome", "success")
	}
	if f[5] == "POST" || f[5] == "PUT" || f[5] == "CONNECT" {
		ev.Fields["tags"] = []string{"possible_upload_size_not_logged"}
	}
	emit(ev, linePos(no))
	return nil
}
