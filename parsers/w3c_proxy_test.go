package parsers

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// requests leaves out the directives a W3C log keeps as state events.
func requests(evs []*event.Event) []*event.Event {
	var out []*event.Event
	for _, ev := range evs {
		if ev.Str(event.FieldKind) != "state" {
			out = append(out, ev)
		}
	}
	return out
}

// TestW3CProxy: a ProxySG access log in its reporter format, read with
// --tz Europe/Paris: times stay GMT as ELFF defines them (the #Date
// directive's zone is said, not applied), quoted values with spaces are
// one value, the upload's size is cs-bytes, the appliance is named from
// #Remark, a denied request fails, a tunnel has no URL path, short lines
// and a broken quote are kept raw with the reason.
func TestW3CProxy(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	evs, st := parseFile(t, "testdata/proxysg_elff.log", &Options{TZ: paris})
	if st.Format != "w3c-proxy" || st.Parsed != 10 || st.Raw != 2 || st.Lost != 0 {
		t.Fatalf("stats %+v", st)
	}
	if len(st.Warnings) != 1 || !strings.Contains(st.Warnings[0], "EST (UTC-0400)") || !strings.Contains(st.Warnings[0], "read as UTC") {
		t.Errorf("warnings %q", st.Warnings)
	}
	data := requests(evs)
	if len(data) != 6 {
		t.Fatalf("%d requests", len(data))
	}
	appliance := map[string]any{"observer.type": "proxy", "observer.vendor": "Symantec", "observer.product": "ProxySG",
		"observer.name": "SG-AGGLO", "observer.ip": "10.20.0.5", "observer.serial_number": "4411223344", "event.dataset": "w3c_proxy.access"}
	want(t, "page", data[0], "2025-03-14T21:58:02Z", map[string]any{
		"source.ip": "10.20.1.15", "user.name": "jdupont", "user.domain": "AGGLO", "w3c_proxy.auth_group": `AGGLO\Utilisateurs du domaine`,
		"url.original": "https://www.service-public.fr/particuliers/vosdroits?lang=fr", "url.domain": "www.service-public.fr",
		"url.path": "/particuliers/vosdroits", "url.query": "lang=fr", "url.scheme": "https", "destination.domain": "www.service-public.fr",
		"destination.port": int64(443), "destination.ip": nil, "http.request.method": "GET", "http.response.status_code": int64(200),
		"user_agent.original": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36", "w3c_proxy.categories": "Government/Legal",
		"destination.bytes": int64(48211), "source.bytes": int64(512), "event.outcome": "success", "event.duration": int64(120 * time.Millisecond),
		"network.application": nil, "w3c_proxy.application_operation": nil, "evidence.line": int64(7),
	})
	want(t, "appliance", data[0], "", appliance)
	want(t, "upload", data[1], "2025-03-14T22:50:40Z", map[string]any{
		"source.bytes": int64(228392011), "http.request.bytes": int64(228392011), "destination.bytes": int64(1836),
		"http.request.method": "POST", "destination.domain": "gfs270n102.userstorage.mega.co.nz", "user_agent.original": "rclone/v1.62.2",
		"network.application": "mega", "w3c_proxy.application_name": "MEGA", "w3c_proxy.application_operation": "Upload Files",
		"w3c_proxy.action": "TCP_NC_MISS", "w3c_proxy.filter_result": "OBSERVED", "event.duration": int64(914 * time.Second),
		"event.start": "2025-03-14T22:35:26Z", "event.end": "2025-03-14T22:50:40Z",
	})
	want(t, "denied", data[2], "2025-03-14T22:51:03Z", map[string]any{
		"event.outcome": "failure", "event.type": []string{"denied"}, "w3c_proxy.exception_id": "policy_denied",
		"http.response.status_code": int64(403), "url.original": "http://transfer.sh/clients.zip", "url.extension": "zip",
		"destination.port": int64(80), "user.name": nil, "source.bytes": int64(1048576),
	})
	want(t, "tunnel", data[3], "2025-03-14T22:52:00Z", map[string]any{
		"http.request.method": "CONNECT", "url.original": "185.199.108.133:443", "destination.ip": "185.199.108.133",
		"destination.domain": nil, "destination.port": int64(443), "network.direction": "outbound", "source.bytes": int64(5242880),
	})
	if got := data[4].Str(event.FieldError); got != "w3c-proxy: 6 values for the 27 fields of #Fields:" {
		t.Errorf("short line: %q", got)
	}
	if got := data[5].Str(event.FieldError); !strings.HasPrefix(got, "w3c-proxy: ") {
		t.Errorf("broken quote: %q", got)
	}
}

// TestW3CProxyRelayed: the same log relayed by syslog (each line behind a
// header, directives included) gives the same requests; a line of it that
// lost its header is kept raw with the reason.
func TestW3CProxyRelayed(t *testing.T) {
	plain, _ := parseFile(t, "testdata/proxysg_elff.log", &Options{TZ: time.UTC})
	relayed, st := parseFile(t, "testdata/proxysg_syslog.log", &Options{TZ: time.UTC})
	if st.Format != "w3c-proxy" || st.Parsed != 10 || st.Raw != 2 {
		t.Fatalf("stats %+v", st)
	}
	a, b := requests(plain), requests(relayed)
	if len(a) != len(b) {
		t.Fatalf("%d vs %d requests", len(a), len(b))
	}
	skip := map[string]bool{event.FieldOriginal: true, "event.id": true, "evidence.sha256": true, "log.file.path": true}
	for i := range a {
		if !a[i].Timestamp.Equal(b[i].Timestamp) {
			t.Errorf("%d: time %s vs %s", i, a[i].Timestamp, b[i].Timestamp)
		}
		for k, v := range a[i].Fields {
			if !skip[k] && !equalValue(v, b[i].Fields[k]) {
				t.Errorf("%d: %s = %v relayed, %v plain", i, k, b[i].Fields[k], v)
			}
		}
		if len(a[i].Fields) != len(b[i].Fields) {
			t.Errorf("%d: %d fields relayed, %d plain", i, len(b[i].Fields), len(a[i].Fields))
		}
	}
	dec := W3CProxy{}.NewDecoder(&Options{TZ: time.UTC, Year: 2025})
	emit := func(*event.Event, string) {}
	if err := dec.Line(1, []byte("Mar 14 23:00:04 10.20.0.5 #Fields: date time c-ip s-action cs-host"), emit); err != nil {
		t.Fatal(err)
	}
	if err := dec.Line(2, []byte("2025-03-14 22:50:40 10.20.1.15 TCP_MISS mega.nz"), emit); err == nil || !strings.Contains(err.Error(), "no syslog header") {
		t.Errorf("a line without the relay's header: %v", err)
	}
}

func equalValue(a, b any) bool {
	if as, ok := a.([]string); ok {
		bs, ok := b.([]string)
		return ok && strings.Join(as, "\x00") == strings.Join(bs, "\x00")
	}
	return a == b
}

// TestW3CProxyCiscoWSA: Cisco's W3C access log — epoch timestamp with
// milliseconds, result code and status in one field, the whole URL, s-ip
// naming the server it fetched from.
func TestW3CProxyCiscoWSA(t *testing.T) {
	evs, st := parseFile(t, "testdata/wsa_w3c.log", &Options{TZ: time.UTC})
	if st.Format != "w3c-proxy" || st.Parsed != 6 || st.Raw != 0 {
		t.Fatalf("stats %+v", st)
	}
	data := requests(evs)
	want(t, "upload", data[0], "2025-03-14T22:50:40.512Z", map[string]any{
		"observer.vendor": "Cisco", "observer.product": "Secure Web Appliance", "source.ip": "10.20.1.15",
		"user.name": "jdupont@agglo-exemple.fr", "w3c_proxy.action": "TCP_MISS", "http.response.status_code": int64(200),
		"url.original": "https://gfs270n102.userstorage.mega.co.nz/ul/Xk2a9", "destination.domain": "gfs270n102.userstorage.mega.co.nz",
		"destination.ip": "31.216.145.5", "source.bytes": int64(228392011), "destination.bytes": int64(1836),
		"http.response.mime_type": "application/json", "w3c_proxy.hierarchy": "DIRECT", "network.direction": "outbound",
		"observer.ip": nil, "event.duration": int64(914 * time.Second),
	})
	want(t, "denied tunnel", data[1], "2025-03-14T22:51:03.004Z", map[string]any{
		"event.outcome": "failure", "http.request.method": "CONNECT", "destination.domain": "transfer.sh", "destination.port": int64(443),
		"http.response.status_code": int64(403), "destination.ip": nil, "user.name": nil,
	})
}

// TestW3CProxyDetection: a proxy's W3C log is told from IIS's by what only
// a proxy logs, with or without #Software:, plain or relayed; IIS logs,
// the Windows Firewall's W3C log and a proxy log with no directive are not.
func TestW3CProxyDetection(t *testing.T) {
	sg := "#Fields: date time time-taken c-ip sc-status s-action sc-bytes cs-bytes cs-method cs-uri-scheme cs-host cs-uri-path cs-uri-query cs-username s-hierarchy s-supplier-name rs(Content-Type) cs(User-Agent) sc-filter-result sc-filter-category x-virus-id s-ip s-sitename\n"
	for _, tc := range []struct {
		name, head string
		proxy, iis bool
	}{
		{"ProxySG software", "#Software: SGOS 6.7.5.3\n#Version: 1.0\n", true, false},
		{"ProxySG fields", "#Version: 1.0\n" + sg, true, false},
		{"relayed", "Aug 18 12:30:46 10.8.24.10 #Software: SGOS 6.5.9.8\nAug 18 12:30:46 10.8.24.10 #Version: 1.0\n", true, false},
		{"relayed fields", "<134>Aug 18 12:30:46 10.8.24.10 " + sg, true, false},
		{"Cisco", "#Software: AsyncOS for Web 14.5.0-498\n", true, false},
		{"Cisco fields", "#Fields: timestamp x-elapsed-time c-ip x-resultcode-httpstatus sc-bytes cs-method cs-url cs-username\n", true, false},
		{"IIS", "#Software: Microsoft Internet Information Services 10.0\n#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) cs-host sc-status sc-substatus sc-win32-status sc-bytes cs-bytes time-taken\n", false, true},
		{"IIS fields with host and bytes", "#Fields: date time s-sitename s-ip cs-method cs-uri-stem cs-uri-query s-port c-ip cs-host sc-status sc-bytes cs-bytes\n", false, true},
		{"Windows Firewall", "#Version: 1.5\n#Software: Microsoft Windows Firewall\n#Fields: date time action protocol src-ip dst-ip src-port dst-port size path\n", false, false},
		{"no directive", "2025-03-14 22:50:40 914000 10.20.1.15 - - - OBSERVED \"File Storage\" - 200 TCP_NC_MISS POST\n", false, false},
	} {
		if got := (W3CProxy{}).Detect([]byte(tc.head)); got != tc.proxy {
			t.Errorf("%s: proxy %v", tc.name, got)
		}
		if got := (IIS{}).Detect([]byte(tc.head)); got != tc.iis {
			t.Errorf("%s: IIS %v", tc.name, got)
		}
	}
	for _, p := range []string{"testdata/iis_exchange.log", "testdata/iis_ftp.log", "testdata/iis_smtp.log"} {
		head, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if f, err := Detect(head); err != nil || f.Name() != "iis" {
			t.Errorf("%s detected as %v", p, f)
		}
	}
}

// TestSplitELFF: values split on spaces or tabs, quoted ones whole with
// their spaces, a doubled quote inside kept once, an unclosed quote refused.
func TestSplitELFF(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		err  bool
	}{
		{`a "b c" d`, []string{"a", "b c", "d"}, false},
		{"a\t\"b\tc\"\td", []string{"a", "b\tc", "d"}, false},
		{`a  b`, []string{"a", "b"}, false},
		{`"" x`, []string{"", "x"}, false},
		{`"say ""hi""" x`, []string{`say "hi"`, "x"}, false},
		{`'Mozilla/5.0 (X11)' 200`, []string{"Mozilla/5.0 (X11)", "200"}, false},
		{`it's 200`, []string{"it's", "200"}, false},
		{`a"b c`, []string{`a"b`, "c"}, false},
		{`a "b c`, nil, true},
	} {
		got, err := splitELFF(tc.in, nil)
		if (err != nil) != tc.err || (!tc.err && strings.Join(got, "|") != strings.Join(tc.want, "|")) {
			t.Errorf("splitELFF(%q) = %q, %v", tc.in, got, err)
		}
	}
}

// TestW3CProxySupplier: ProxySG's older main format names the server it
// fetched from (s-supplier-name): the destination when it went DIRECT,
// not when a parent proxy fetched it.
func TestW3CProxySupplier(t *testing.T) {
	dec := W3CProxy{}.NewDecoder(&Options{TZ: time.UTC})
	var got []*event.Event
	emit := func(ev *event.Event, _ string) { got = append(got, ev) }
	lines := []string{
		"#Software: SGOS 4.2.10.1",
		"#Fields: date time time-taken c-ip sc-status s-action sc-bytes cs-bytes cs-method cs-uri-scheme cs-host cs-uri-path cs-uri-query cs-username s-hierarchy s-supplier-name rs(Content-Type) cs(User-Agent) sc-filter-result sc-filter-category x-virus-id s-ip s-sitename",
		`2025-03-14 22:10:00 2400 10.20.1.30 200 TCP_NC_MISS 310 52428800 PUT https files.example-partner.fr /depot/rh.7z - mdurand DIRECT 203.0.113.80 text/plain "WinSCP/6.1" PROXIED "File Storage" - 10.20.0.5 SG-HTTP-Service`,
		`2025-03-14 22:11:00 90 10.20.1.30 200 TCP_MISS 4096 400 GET http www.example.org / - mdurand PARENT_MISS 10.99.0.1 text/html "Mozilla/5.0" PROXIED "none" - 10.20.0.5 SG-HTTP-Service`,
	}
	for i, l := range lines {
		if err := dec.Line(int64(i+1), []byte(l), emit); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
	}
	data := requests(got)
	if len(data) != 2 {
		t.Fatalf("%d requests", len(data))
	}
	want(t, "direct", data[0], "2025-03-14T22:10:00Z", map[string]any{
		"destination.ip": "203.0.113.80", "destination.domain": "files.example-partner.fr", "source.bytes": int64(52428800),
		"url.original": "https://files.example-partner.fr/depot/rh.7z", "user.name": "mdurand", "w3c_proxy.hierarchy": "DIRECT",
		"w3c_proxy.categories": "File Storage", "observer.ip": "10.20.0.5", "w3c_proxy.service": "SG-HTTP-Service", "network.direction": "outbound",
	})
	want(t, "parent", data[1], "2025-03-14T22:11:00Z", map[string]any{
		"destination.ip": nil, "w3c_proxy.supplier_name": "10.99.0.1", "w3c_proxy.hierarchy": "PARENT_MISS", "destination.domain": "www.example.org",
	})
}

// TestW3CProxyTMG: Forefront TMG's Web Proxy log in W3C form separates by
// tabs (its user agents unquoted, with spaces); anonymous is no account;
// its action Denied fails; r-ip is the server it went to.
func TestW3CProxyTMG(t *testing.T) {
	evs, st := parseFile(t, "testdata/tmg_w3c.log", &Options{TZ: time.UTC})
	if st.Format != "w3c-proxy" || st.Parsed != 6 || st.Raw != 0 {
		t.Fatalf("stats %+v", st)
	}
	data := requests(evs)
	want(t, "tunnel", data[0], "2025-03-14T22:50:40Z", map[string]any{
		"observer.vendor": "Microsoft", "observer.product": "Forefront TMG", "observer.hostname": "TMG01",
		"source.ip": "10.20.1.15", "user.name": "jdupont", "user.domain": "AGGLO", "user_agent.original": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
		"http.request.method": "CONNECT", "url.original": "gfs270n102.userstorage.mega.co.nz:443", "destination.domain": "gfs270n102.userstorage.mega.co.nz",
		"destination.ip": "31.216.145.5", "destination.port": int64(443), "source.bytes": int64(228392011), "destination.bytes": int64(1836),
		"w3c_proxy.action": "Allowed", "w3c_proxy.rule": "Acces Internet", "event.outcome": "success", "network.direction": "outbound",
	})
	want(t, "denied", data[1], "2025-03-14T22:51:03Z", map[string]any{
		"user.name": nil, "event.outcome": "failure", "event.type": []string{"denied"}, "url.original": "http://transfer.sh/clients.zip",
		"url.scheme": "http", "destination.port": int64(80), "http.request.method": "PUT", "source.bytes": int64(1048576),
	})
}
