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

// TestIISServices: IIS's FTP and SMTP services log in W3C too; their lines
// are commands, not web requests (a download by RETR, a relay's MAIL FROM).
func TestIISServices(t *testing.T) {
	evs, st := parseFile(t, "testdata/iis_ftp.log", &Options{TZ: time.UTC})
	if st.Format != "iis" || st.Parsed != 8 || st.Raw != 0 {
		t.Fatalf("ftp: %+v", st)
	}
	want(t, "ftp retr", evs[6], "2025-03-14T22:24:41Z", map[string]any{
		"event.dataset": "iis.ftp", "event.category": []string{"file", "network"}, "event.action": "retr",
		"iis.ftp.command": "RETR", "iis.ftp.status": int64(226), "event.outcome": "success", "file.path": "/exports/paie-2024.zip",
		"user.name": "j.martin", "source.ip": "185.220.101.4", "source.port": int64(51240), "destination.bytes": int64(734003200),
		"host.name": "BACKUP01", "http.request.method": nil, "url.path": nil, "url.original": nil, "http.response.status_code": nil,
	})
	want(t, "ftp retr refused", evs[7], "2025-03-14T22:25:02Z", map[string]any{"event.outcome": "failure", "iis.ftp.status": int64(550)})
	want(t, "ftp pass", evs[5], "2025-03-14T22:20:00Z", map[string]any{"iis.ftp.command": "PASS", "file.path": nil, "user.name": "j.martin"})
	want(t, "ftp channel", evs[4], "2025-03-14T22:19:58Z", map[string]any{"event.dataset": "iis.ftp", "file.path": nil, "iis.ftp.command": "ControlChannelOpened"})
	evs, st = parseFile(t, "testdata/iis_smtp.log", &Options{TZ: time.UTC})
	if st.Format != "iis" || st.Parsed != 7 || st.Raw != 0 {
		t.Fatalf("smtp: %+v", st)
	}
	want(t, "smtp mail", evs[5], "2025-03-14T22:30:01Z", map[string]any{
		"event.dataset": "iis.smtp", "event.category": []string{"email", "network"}, "iis.smtp.command": "MAIL",
		"iis.smtp.argument": "+FROM:<scanner@agglo-exemple.fr>+SIZE=8123456", "iis.smtp.status": int64(250),
		"source.ip": "10.10.1.40", "host.name": "RELAY01", "http.version": nil, "url.original": nil,
	})
	if got := iisService("", "RCPT"); got != "smtp" {
		t.Errorf("RCPT without a site: %s", got)
	}
	if got := iisService("W3SVC2", "RETR"); got != "web" {
		t.Errorf("a web site's RETR request: %s", got)
	}
}
