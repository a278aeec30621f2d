package parsers

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// W3CProxy reads web proxies' access logs in the W3C extended log file
// format (ELFF): Blue Coat / Symantec ProxySG, Cisco Secure Web Appliance's
// W3C logs, Forefront TMG's and other proxies writing a #Fields: directive. Where the
// firewall sees only the proxy's own address going out, this log names the
// workstation and account behind each request, the host it went to and the
// bytes each way: cs-bytes is what the client sent (an upload's size),
// sc-bytes what it received. Values holding spaces are quoted, unlike IIS's.
// date and time are GMT by ELFF's definition (ProxySG's own documentation
// says so too; its localtime field carries an offset and is read with it).
type W3CProxy struct{}

func (W3CProxy) Name() string { return "w3c-proxy" }
func (W3CProxy) Description() string {
	return "Web proxy access logs in W3C extended format with #Fields: (Blue Coat/Symantec ProxySG, Cisco Secure Web Appliance W3C logs, Forefront TMG), also relayed by syslog, and ProxySG's built-in formats (main, bcreportermain_v1) without directives; times in UTC"
}

func (W3CProxy) selfContained() {}

func (W3CProxy) Detect(head []byte) bool {
	for _, l := range headLines(head, 40) {
		body, ok := w3cDirective(l)
		if !ok {
			continue
		}
		if s, ok := strings.CutPrefix(body, "#Software:"); ok && proxySoftware(s) != (proxyProduct{}) {
			return true
		}
		if f, ok := strings.CutPrefix(body, "#Fields:"); ok {
			return proxyFields(strings.Fields(f))
		}
	}
	return mostLines(head, W3CProxy{}.matchLine)
}

// w3cDirective returns a line's W3C directive, the line itself or what
// follows a syslog relay's header.
func w3cDirective(l string) (string, bool) {
	if strings.HasPrefix(l, "#") {
		return l, true
	}
	if !strings.Contains(l, "#") {
		return "", false
	}
	c := syslogClock{Loc: time.UTC}
	h, err := c.parse(l)
	if err != nil {
		return "", false
	}
	body := syslogBody(h)
	return body, strings.HasPrefix(body, "#")
}

// relayShape tells a relay's header from a request's own date: an ELFF
// line starts "2025-03-14 22:50:40", which also reads as an ISO syslog
// stamp, so a relayed file's lines must start as its directives did.
func relayShape(s string) string {
	switch {
	case strings.HasPrefix(s, "<"):
		return "pri"
	case len(s) > 3 && months[s[:3]] != 0:
		return "bsd"
	case len(s) > 10 && isISODate(s):
		return "iso" + s[10:11]
	}
	return "other"
}

// syslogBody is what a relay carried: a directive's "#Fields:" reads to
// the syslog parser as a program name.
func syslogBody(h syslogHeader) string {
	if strings.HasPrefix(h.Program, "#") {
		return h.Program + ": " + h.Msg
	}
	return h.Msg
}

// proxyFieldMarks are fields only a proxy logs: what it did with the
// request (s-action, sc-filter-result), where it fetched it from
// (s-hierarchy, s-supplier-*, r-*), the whole URL or scheme a proxied
// request names. IIS logs none of them.
var proxyFieldMarks = map[string]bool{
	"s-action": true, "sc-filter-result": true, "sc-filter-category": true, "cs-categories": true, "s-hierarchy": true,
	"s-supplier-name": true, "s-supplier-ip": true, "r-ip": true, "r-host": true, "r-port": true, "cs-uri-scheme": true,
	"cs-url": true, "x-resultcode-httpstatus": true, "x-hierarchy-origin": true, "x-exception-id": true, "x-result-code": true,
}

func proxyFields(names []string) bool {
	client, mark, when := false, false, false
	for _, n := range names {
		n = strings.ToLower(n)
		switch {
		case n == "c-ip":
			client = true
		case n == "date", n == "time", n == "timestamp", n == "x-timestamp-unix", n == "localtime", n == "gmttime":
			when = true
		case proxyFieldMarks[n], strings.HasPrefix(n, "x-bluecoat-"):
			mark = true
		}
	}
	return client && mark && when
}

type proxyProduct struct{ vendor, product string }

// proxySoftware names the proxy a #Software: directive names.
func proxySoftware(s string) proxyProduct {
	s = strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(s, "SGOS"), strings.Contains(s, "Blue Coat"), strings.Contains(s, "ProxySG"):
		return proxyProduct{"Symantec", "ProxySG"}
	case strings.HasPrefix(s, "AsyncOS for Web"):
		return proxyProduct{"Cisco", "Secure Web Appliance"}
	case strings.Contains(s, "Forefront Threat Management Gateway"), strings.Contains(s, "Internet Security and Acceleration"):
		return proxyProduct{"Microsoft", "Forefront TMG"}
	}
	return proxyProduct{}
}

func (W3CProxy) NewDecoder(o *Options) LineDecoder {
	return &w3cProxyDecoder{warn: o.Warn, clock: o.clock()}
}

type w3cProxyDecoder struct {
	fields   []string // lowered
	names    []string // as written
	product  proxyProduct
	observer struct{ name, ip, serial string }
	relayed  string // every line behind a syslog header of this shape (relayShape)
	tabs     bool   // values separated by tabs only
	clock    syslogClock
	warn     func(string)
	warned   bool
	vals     []string
	builtin  *sgFormat // the ProxySG format a log without directives is read by
	extra    int64     // its requests with values beyond that format's fields
}

func (d *w3cProxyDecoder) Flush(Emit) {
	if d.extra > 0 && d.warn != nil {
		d.warn(fmt.Sprintf("%s with values beyond the fields of ProxySG's %q format: those values are kept in event.original only", plural(d.extra, "request"), d.builtin.name))
	}
}

func (d *w3cProxyDecoder) Line(no int64, line []byte, emit Emit) error {
	s := strings.TrimRight(string(line), "\r")
	if !strings.HasPrefix(s, "#") && (d.relayed != "" || d.fields == nil) {
		h, err := d.clock.peek(s) // a request's own date and time date it
		switch {
		case err == nil && d.relayed == "" && strings.HasPrefix(syslogBody(h), "#"):
			d.relayed = relayShape(s)
			s = syslogBody(h)
		case err == nil && d.relayed == relayShape(s):
			s = syslogBody(h)
		case d.relayed != "":
			return fmt.Errorf("w3c-proxy: no syslog header on a line of a relayed log")
		}
	}
	if strings.HasPrefix(s, "#") {
		d.directive(s)
		emitHeaderLine(emit, no, "w3c_proxy.access", s)
		return nil
	}
	var err error
	if d.fields == nil {
		if s, err = d.guess(s); err != nil {
			return err
		}
	}
	if d.tabs {
		d.vals = splitTabs(s, d.vals[:0])
	} else {
		d.vals, err = splitELFF(s, d.vals[:0])
	}
	if err != nil {
		return err
	}
	n := len(d.fields)
	switch {
	case d.builtin != nil:
		if !d.builtin.fits(d.vals) {
			return fmt.Errorf("w3c-proxy: no #Fields: directive, and this request's values do not fit ProxySG's %q format as the log's first request did", d.builtin.name)
		}
		if n = d.builtin.width(len(d.vals)); n < len(d.vals) {
			d.extra++
		}
	case len(d.vals) != n:
		return fmt.Errorf("w3c-proxy: %d values for the %d fields of #Fields:", len(d.vals), len(d.fields))
	}
	ev := event.New()
	ev.Fields[event.FieldDataset] = "w3c_proxy.access"
	ev.Fields[event.FieldOriginal] = s
	ev.Fields[event.FieldLine] = no
	ev.Fields["event.category"] = []string{"web", "network"}
	ev.Fields["observer.type"] = "proxy"
	ev.Set("observer.vendor", d.product.vendor)
	ev.Set("observer.product", d.product.product)
	ev.Set("observer.name", d.observer.name)
	ev.Set("observer.serial_number", d.observer.serial)
	var r proxyRequest
	for i, name := range d.fields[:n] {
		v := d.vals[i]
		if v == "-" || v == "" {
			continue
		}
		if err := d.set(ev, &r, name, d.names[i], v); err != nil {
			return err
		}
	}
	if err := r.finish(ev, d.observer.ip); err != nil {
		return err
	}
	emit(ev, linePos(no))
	return nil
}

// directive takes what a directive says about the lines that follow.
func (d *w3cProxyDecoder) directive(s string) {
	switch {
	case strings.HasPrefix(s, "#Fields:"):
		d.builtin = nil
		f := strings.TrimPrefix(s, "#Fields:")
		// Forefront TMG separates by tabs, names ("GMT Time") and values
		// (an unquoted user agent) holding spaces.
		d.tabs = strings.Contains(strings.TrimSpace(f), "\t")
		if d.tabs {
			d.names = splitTabs(strings.TrimSpace(f), nil)
		} else {
			d.names = strings.Fields(f)
		}
		d.fields = make([]string, len(d.names))
		for i, n := range d.names {
			d.fields[i] = strings.ToLower(n)
		}
	case strings.HasPrefix(s, "#Software:"):
		d.product = proxySoftware(strings.TrimPrefix(s, "#Software:"))
	case strings.HasPrefix(s, "#Remark:"):
		// ProxySG: #Remark: SERIAL "appliance name" "appliance address" "log format"
		if v, err := splitELFF(strings.TrimPrefix(s, "#Remark:"), nil); err == nil && len(v) == 4 {
			if _, err := strconv.ParseUint(v[0], 10, 64); err == nil {
				d.observer.serial, d.observer.name = v[0], v[1]
				if a, err := netip.ParseAddr(v[2]); err == nil {
					d.observer.ip = a.Unmap().String()
				}
			}
		}
	case strings.HasPrefix(s, "#Date:"), strings.HasPrefix(s, "#Start-Date:"):
		// "#Date: 2021-04-16 13:51:09 EST (UTC-0400)": the header's own
		// time is local; the requests' date and time fields are not.
		f := strings.Fields(s)
		if len(f) > 3 && !d.warned && d.warn != nil {
			d.warned = true
			d.warn(fmt.Sprintf("%s names a zone (%s); the requests' date and time fields are GMT by ELFF's definition and are read as UTC", f[0], strings.Join(f[3:], " ")))
		}
	}
}

// proxyRequest holds the fields a request's ECS fields are made from
// once all are read.
type proxyRequest struct {
	date, clock                     string
	at                              time.Time
	scheme, host, port, path, query string
	url                             string
	supplier, hierarchy             string
	filterResult                    string
	status                          int64
}

func (d *w3cProxyDecoder) set(ev *event.Event, r *proxyRequest, lower, name, v string) error {
	integer := func(k ...string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("w3c-proxy: %s %q is not a number", name, v)
		}
		for _, f := range k {
			ev.SetInt(f, n)
		}
		return nil
	}
	if k, ok := proxyText[lower]; ok {
		ev.Set(k, v)
		return nil
	}
	switch lower {
	case "date":
		r.date = v
	case "time":
		r.clock = v
	case "timestamp", "x-timestamp-unix":
		t, err := epochSeconds(v)
		if err != nil {
			return fmt.Errorf("w3c-proxy: %s %q: %v", name, v, err)
		}
		r.at = t
	case "localtime", "gmttime":
		t, err := time.Parse("02/Jan/2006:15:04:05 -0700", strings.Trim(v, "[]"))
		if err != nil {
			return fmt.Errorf("w3c-proxy: %s %q: %v", name, v, err)
		}
		if r.at.IsZero() {
			r.at = t.UTC()
		}
	case "time-taken", "x-elapsed-time":
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("w3c-proxy: %s %q is not a number", name, v)
		}
		ev.SetInt("event.duration", n*int64(time.Millisecond))
	case "c-ip":
		setIP(ev, "source.ip", v)
	case "c-port":
		setPort(ev, "source.port", v)
	case "cs-username":
		if !strings.EqualFold(v, "anonymous") { // TMG's word for no account
			setUserDomainForm(ev, v)
		}
	case "s-ip":
		if d.product.product == "Secure Web Appliance" { // its server's address, not its own
			setIP(ev, "destination.ip", v)
		} else {
			setIP(ev, "observer.ip", v)
		}
	case "cs-host", "r-host", "s-hostname":
		if r.host == "" || lower == "cs-host" {
			r.host = v
		}
	case "r-ip", "s-supplier-ip":
		setIP(ev, "destination.ip", v)
	case "s-supplier-name":
		r.supplier = v
		ev.Set("w3c_proxy.supplier_name", v)
	case "s-hierarchy", "x-hierarchy-origin":
		// "DIRECT", or "DIRECT/host" (Cisco): the request went to the origin.
		h, origin, _ := strings.Cut(v, "/")
		r.hierarchy = h
		ev.Set("w3c_proxy.hierarchy", h)
		if origin != "" && origin != "-" {
			r.supplier = origin
		}
	case "cs-uri-port", "r-port":
		r.port = v
	case "cs-uri-scheme":
		r.scheme = strings.ToLower(v)
	case "cs-uri-path", "cs-uri-stem":
		r.path = v
	case "cs-uri-query":
		r.query = strings.TrimPrefix(v, "?")
	case "cs-uri", "cs-url":
		r.url = v
	case "cs-method", "s-operation":
		ev.Set("http.request.method", v)
		ev.Set("event.action", strings.ToLower(v))
	case "sc-status":
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("w3c-proxy: %s %q is not a number", name, v)
		}
		ev.SetInt("http.response.status_code", n)
		r.status = n
	case "s-action", "x-result-code":
		ev.Set("w3c_proxy.action", v)
	case "action":
		// TMG: Allowed, Denied, Failed…
		ev.Set("w3c_proxy.action", v)
		r.filterResult = strings.ToUpper(v) // DENIED fails as ProxySG's; FAILED as an error status
	case "cs-protocol":
		if r.scheme == "" {
			r.scheme = strings.ToLower(v)
		}
	case "gmt time":
		// A TMG/ISA column beside date and time, both UTC already.
		if t, err := time.Parse("2006-01-02 15:04:05.999999999", v); err == nil && r.at.IsZero() {
			r.at = t
		}
	case "x-resultcode-httpstatus":
		// "TCP_MISS/200"
		code, status, _ := strings.Cut(v, "/")
		ev.Set("w3c_proxy.action", code)
		if n, err := strconv.ParseInt(status, 10, 64); err == nil && n > 0 {
			ev.SetInt("http.response.status_code", n)
			r.status = n
		}
	case "sc-filter-result":
		r.filterResult = strings.ToUpper(v)
		ev.Set("w3c_proxy.filter_result", v)
	case "sc-bytes":
		// What the client received: a download's size.
		return integer("http.response.bytes", "destination.bytes")
	case "cs-bytes":
		// What the client sent: the request with its body, an upload's size.
		return integer("http.request.bytes", "source.bytes")
	case "x-forwarded-for", "cs(x-forwarded-for)":
		first, _, _ := strings.Cut(v, ",")
		setIP(ev, "network.forwarded_ip", strings.TrimSpace(first))
	case "x-bluecoat-application-name", "x-bluecoat-application-operation":
		if v == "none" { // ProxySG's word for no application recognised
			return nil
		}
		if lower == "x-bluecoat-application-operation" {
			ev.Set("w3c_proxy.application_operation", v)
			return nil
		}
		ev.Set("network.application", strings.ToLower(v))
		ev.Set("w3c_proxy.application_name", v)
	default:
		ev.Set("w3c_proxy."+vendorKey(lower), v)
	}
	return nil
}

// proxyText are fields kept as they are, by their ECS name.
var proxyText = map[string]string{
	"cs(user-agent)": "user_agent.original", "c-agent": "user_agent.original", "cs(referer)": "http.request.referrer",
	"rs(content-type)": "http.response.mime_type", "cs-mime-type": "http.response.mime_type", "cs(content-type)": "http.request.mime_type",
	"cs-uri-extension": "url.extension", "cs-version": "http.version", "cs-categories": "w3c_proxy.categories",
	"sc-filter-category": "w3c_proxy.categories", "x-virus-id": "w3c_proxy.virus_id", "x-exception-id": "w3c_proxy.exception_id",
	"cs-auth-group": "w3c_proxy.auth_group", "s-sitename": "w3c_proxy.service", "s-computername": "observer.hostname",
	"cs-mime": "http.response.mime_type",
}

// vendorKey makes a W3C field name a key: "rs(Content-Length)" → "rs_content_length".
func vendorKey(n string) string {
	b := []byte(n)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			b[i] = '_'
		}
	}
	return strings.TrimRight(string(b), "_")
}

// finish sets what needs several fields: the time, the URL, the
// destination and the outcome.
func (r *proxyRequest) finish(ev *event.Event, observerIP string) error {
	switch {
	case r.date != "" && r.clock != "":
		t, err := time.Parse("2006-01-02 15:04:05.999999999", r.date+" "+r.clock)
		if err != nil {
			return fmt.Errorf("w3c-proxy: date %q time %q: %v", r.date, r.clock, err)
		}
		ev.Timestamp = t
	case !r.at.IsZero():
		ev.Timestamp = r.at
	default:
		return fmt.Errorf("w3c-proxy: no date and time on the line")
	}
	// A proxy writes a request's line when it completes: its start is the
	// time taken before (the ledger and the timeline date uploads by it).
	if d, ok := ev.Int("event.duration"); ok && d >= 0 {
		setSpan(ev, time.Duration(d))
	}
	if ev.Str("observer.ip") == "" {
		ev.Set("observer.ip", observerIP)
	}
	host := r.host
	if r.url != "" {
		ev.Set("url.original", r.url)
		if host == "" {
			host = authority(r.url)
		}
	} else if host != "" {
		ev.Set("url.original", r.joinURL(host))
	}
	if r.path != "" {
		ev.Set("url.path", r.path)
	}
	ev.Set("url.query", r.query)
	ev.Set("url.scheme", r.scheme)
	if host != "" {
		h := host
		if sh, p, ok := strings.Cut(host, ":"); ok && !strings.Contains(p, ":") {
			h = sh // "host:443" of a CONNECT
			if r.port == "" {
				r.port = p
			}
		}
		if a, err := netip.ParseAddr(strings.Trim(h, "[]")); err == nil {
			if ev.Str("destination.ip") == "" {
				ev.Set("destination.ip", a.Unmap().String())
			}
		} else {
			ev.Set("url.domain", h)
			ev.Set("destination.domain", h)
		}
	}
	setPort(ev, "destination.port", r.port)
	// The supplier is the origin server only when the proxy went there
	// directly; through a parent proxy it is the parent.
	if ev.Str("destination.ip") == "" && r.supplier != "" && (r.hierarchy == "" || strings.EqualFold(r.hierarchy, "DIRECT")) {
		if a, err := netip.ParseAddr(r.supplier); err == nil {
			ev.Set("destination.ip", a.Unmap().String())
		}
	}
	switch {
	case r.filterResult == "DENIED", strings.Contains(strings.ToUpper(ev.Str("w3c_proxy.action")), "DENIED"):
		ev.Set("event.outcome", "failure")
		ev.Fields["event.type"] = []string{"denied"}
	case r.status >= 400, r.filterResult == "FAILED":
		ev.Set("event.outcome", "failure")
		ev.Fields["event.type"] = []string{"access"}
	case r.status > 0 || r.filterResult != "":
		ev.Set("event.outcome", "success")
		ev.Fields["event.type"] = []string{"allowed"}
	}
	setOutboundDirection(ev)
	return nil
}

// joinURL writes the request's URL from ProxySG's parts; a port is written
// only where it is not the scheme's own.
func (r *proxyRequest) joinURL(host string) string {
	if r.scheme == "tcp" || r.scheme == "ssl" { // a tunnel: no URL beyond host and port
		if r.port != "" && !strings.Contains(host, ":") {
			return host + ":" + r.port
		}
		return host
	}
	var b strings.Builder
	if r.scheme != "" {
		b.WriteString(r.scheme + "://")
	}
	b.WriteString(host)
	if r.port != "" && !(r.scheme == "http" && r.port == "80") && !(r.scheme == "https" && r.port == "443") && !strings.Contains(host, ":") {
		b.WriteString(":" + r.port)
	}
	b.WriteString(r.path)
	if r.query != "" {
		b.WriteString("?" + r.query)
	}
	return b.String()
}

// authority is the host[:port] of an absolute URL, or CONNECT's host:port
// as it stands.
func authority(u string) string {
	_, rest, ok := strings.Cut(u, "://")
	if !ok {
		if strings.ContainsAny(u, "/?") {
			return ""
		}
		return u
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		rest = rest[i+1:]
	}
	return rest
}

// splitTabs splits a tab-separated W3C line: every tab separates, spaces
// belong to the values.
func splitTabs(s string, out []string) []string {
	for {
		i := strings.IndexByte(s, '\t')
		if i < 0 {
			return append(out, strings.TrimSpace(s))
		}
		out = append(out, strings.TrimSpace(s[:i]))
		s = s[i+1:]
	}
}

// splitELFF splits a W3C line on spaces or tabs; a value holding either is
// quoted ("…", a quote inside doubled; some writers use '…').
func splitELFF(s string, out []string) ([]string, error) {
	i := 0
	for {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		if i == len(s) {
			return out, nil
		}
		if q := s[i]; q == '"' || q == '\'' {
			if v, next, ok := quotedELFF(s, i, q); ok {
				out = append(out, v)
				i = next
				continue
			}
			if q == '"' {
				return out, fmt.Errorf("w3c-proxy: a quote opened at byte %d is not closed", i+1)
			}
		}
		j := i
		for j < len(s) && s[j] != ' ' && s[j] != '\t' {
			j++
		}
		out = append(out, s[i:j])
		i = j
	}
}

// quotedELFF reads the quoted value at s[i]: it ends at a quote followed by
// a separator or the line's end.
func quotedELFF(s string, i int, q byte) (string, int, bool) {
	var b strings.Builder
	start := i + 1
	for j := start; j < len(s); j++ {
		if s[j] != q {
			continue
		}
		if j+1 < len(s) && s[j+1] == q && q == '"' {
			b.WriteString(s[start : j+1])
			j++
			start = j + 1
			continue
		}
		if j+1 == len(s) || s[j+1] == ' ' || s[j+1] == '\t' {
			b.WriteString(s[start:j])
			return b.String(), j + 1, true
		}
	}
	return "", 0, false
}
