package parsers

import (
	"strings"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// TestIIS: an Exchange server's W3C log with two #Fields: directives (the
// default set, then one IIS wrote after a restart with more fields), times
// in UTC whatever --tz says, directives kept, a short line kept raw.
func TestIIS(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	evs, st := parseFile(t, "testdata/iis_exchange.log", &Options{TZ: paris})
	if st.Format != "iis" || st.Parsed != 12 || st.Raw != 1 || len(evs) != 13 {
		t.Fatalf("stats %+v, %d events", st, len(evs))
	}
	var data []*event.Event
	for _, ev := range evs {
		if ev.Str(event.FieldKind) != "state" {
			data = append(data, ev)
		}
	}
	if len(data) != 5 {
		t.Fatalf("%d request events", len(data))
	}
	want(t, "owa logon", data[0], "2025-03-14T22:00:02Z", map[string]any{
		"event.dataset": "iis.access", "source.ip": "185.220.101.4", "destination.ip": "10.10.1.25", "destination.port": int64(443),
		"http.request.method": "POST", "url.path": "/owa/auth.owa", "url.query": "&CorrelationID=<empty>;&cafeReqId=1c4e9b3a;",
		"url.original": "/owa/auth.owa?&CorrelationID=<empty>;&cafeReqId=1c4e9b3a;", "user.name": "j.martin@agglo-exemple.fr",
		"user_agent.original": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36", "http.response.status_code": int64(302),
		"http.request.referrer": "https://mail.agglo-exemple.fr/owa/auth/logon.aspx", "event.outcome": "success",
		"event.duration": int64(46 * time.Millisecond), "event.category": []string{"web"}, "evidence.line": int64(5),
	})
	want(t, "ews", data[1], "2025-03-14T22:05:11Z", map[string]any{
		"user.name": "j.martin", "user.domain": "AGGLO", "url.original": "/EWS/Exchange.asmx", "url.query": nil,
		"user_agent.original": "python-requests/2.31.0", "http.request.referrer": nil,
	})
	want(t, "webshell probe", data[2], "2025-03-14T22:05:12Z", map[string]any{
		"http.response.status_code": int64(404), "event.outcome": "failure", "user.name": nil, "iis.access.win32_status": "2",
	})
	want(t, "activesync, second #Fields", data[3], "2025-03-14T23:10:40.512Z", map[string]any{
		"iis.access.site_name": "W3SVC1", "host.name": "MAIL01", "source.ip": "10.10.1.5", "network.forwarded_ip": "203.0.113.66",
		"http.version": "1.1", "url.domain": "mail.agglo-exemple.fr", "destination.bytes": int64(52428800),
		"http.response.bytes": int64(52428800), "source.bytes": int64(1204), "http.request.bytes": int64(1204),
		"event.duration": int64(8812 * time.Millisecond),
	})
	if !strings.Contains(data[4].Str(event.FieldError), "iis: 9 values for the 21 fields") {
		t.Errorf("short line: %v", data[4].Fields)
	}
	if evs[3].Str("message") != "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken" {
		t.Errorf("directive: %v", evs[3].Fields)
	}
}

// TestIISDetection: IIS logs with or without their directives; W3C logs of
// other writers (the Windows Firewall's) are not IIS.
func TestIISDetection(t *testing.T) {
	for _, tc := range []struct {
		head string
		want bool
	}{
		{"#Software: Microsoft Internet Information Services 8.5\n#Version: 1.0\n", true},
		{"#Version: 1.0\n#Fields: date time c-ip cs-method cs-uri-stem sc-status\n", true},
		{"2025-03-14 22:05:11 10.10.1.25 POST /EWS/Exchange.asmx - 443 AGGLO\\j.martin 185.220.101.4 python-requests/2.31.0 - 200 0 0 1532\n", true},
		{"#Version: 1.5\n#Software: Microsoft Windows Firewall\n#Time Format: Local\n#Fields: date time action protocol src-ip dst-ip src-port dst-port size tcpflags tcpsyn tcpack tcpwin icmptype icmpcode info path\n", false},
		{"2025-03-14 22:05:11 ALLOW TCP 10.10.1.20 31.216.145.5 49822 443 0 - 0 0 0 - - - SEND\n", false},
	} {
		if got := (IIS{}).Detect([]byte(tc.head)); got != tc.want {
			t.Errorf("Detect(%q) = %v", tc.head, got)
		}
	}
}
