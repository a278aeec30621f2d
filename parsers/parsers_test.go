package parsers

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
	"github.com/exfiltrace/exfiltrace/internal/corpus"
	"github.com/exfiltrace/exfiltrace/parsers/evtx"
)

func parseFile(t *testing.T, path string, o *Options) ([]*event.Event, *FileStats) {
	t.Helper()
	evs, st, err := parseAll(t, path, o)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return evs, st
}

// sumSourceBytes is what a sum of source.bytes over the events gives, as
// the ledger and 'top --sum source.bytes' add them.
func sumSourceBytes(evs []*event.Event) int64 {
	var sum int64
	for _, ev := range evs {
		n, _ := ev.Int("source.bytes")
		sum += n
	}
	return sum
}

// parseAll is parseFile for a file whose reading may end in an error.
func parseAll(t *testing.T, path string, o *Options) ([]*event.Event, *FileStats, error) {
	t.Helper()
	in, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	var evs []*event.Event
	st, err := Parse(in, o, func(ev *event.Event) { evs = append(evs, ev) })
	return evs, st, err
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

// want checks exact field values; a nil value asserts the field is absent.
func want(t *testing.T, name string, ev *event.Event, ts string, fields map[string]any) {
	t.Helper()
	if ts != "" && !ev.Timestamp.Equal(utc(ts)) {
		t.Errorf("%s: @timestamp %s, want %s", name, ev.Timestamp.Format(time.RFC3339Nano), ts)
	}
	for k, v := range fields {
		got, ok := ev.Fields[k]
		if v == nil {
			if ok {
				t.Errorf("%s: %s = %v, want absent", name, k, got)
			}
			continue
		}
		if !reflect.DeepEqual(got, v) {
			t.Errorf("%s: %s = %#v, want %#v", name, k, got, v)
		}
	}
}

func TestFortiGate(t *testing.T) {
	evs, st := parseFile(t, "testdata/fortigate.log", &Options{TZ: time.UTC, Year: 2025})
	if st.Format != "fortigate" || st.Parsed != 4 || st.Raw != 0 {
		t.Fatalf("stats %+v", st)
	}
	want(t, "vpn fail (eventtime ns, tz -0700)", evs[0], "2024-10-14T20:46:40.841267391Z", map[string]any{
		"event.dataset": "fortinet.firewall", "source.ip": "192.168.0.1", "user.name": "sapservicecq1",
		"event.action": "ssl-login-fail", "event.outcome": "failure", "event.category": []string{"network", "authentication"},
		"fortinet.firewall.reason": "sslvpn_login_no_matching_policy", "fortinet.firewall.group": nil,
	})
	want(t, "traffic (date+time+tz, quoted spaces)", evs[1], "2025-03-14T22:50:40Z", map[string]any{
		"source.ip": "10.10.1.20", "source.port": int64(60100), "destination.ip": "31.216.145.5", "destination.port": int64(443),
		"source.bytes": int64(228392011), "destination.bytes": int64(2537689), "network.bytes": int64(230929700),
		"destination.domain": "gfs270n102.userstorage.mega.co.nz", "network.transport": "tcp", "network.direction": "outbound",
		"rule.name": "LAN vers Internet", "observer.name": "FGT-AGGLO-01", "event.outcome": "success",
		"event.start": "2025-03-14T22:32:37Z", "event.duration": int64(1083 * time.Second),
		"evidence.line": int64(2),
	})
	want(t, "syslog header, eventtime s", evs[2], "2025-03-14T22:51:02Z", map[string]any{
		"network.transport": "udp", "event.outcome": "failure", "log.syslog.hostname": "fw01",
		"event.type": []string{"connection", "denied"},
	})
	want(t, "system event, eventtime µs", evs[3], "2025-03-14T22:52:00.123456Z", map[string]any{
		"user.name": "admin", "event.outcome": "success", "event.category": []string{"host"},
	})
	for _, ev := range evs {
		if ev.Str(event.FieldSHA256) != st.SHA256 || ev.Str(event.FieldFile) != "testdata/fortigate.log" || ev.Str(event.FieldID) == "" {
			t.Errorf("provenance missing: %v", ev.Fields)
		}
	}
}

func TestPostfixJoinsByQueueID(t *testing.T) {
	evs, st := parseFile(t, "testdata/postfix.log", &Options{TZ: time.UTC, Year: 2024})
	// The dovecot line of this mail.log is read by the dovecot decoder, not kept raw.
	if st.Parsed != 7 || st.Raw != 0 {
		t.Fatalf("parsed %d raw %d (%v)", st.Parsed, st.Raw, st.RawReasons)
	}
	dovecot := 0
	for _, ev := range evs {
		if ev.Str("event.dataset") == "dovecot" && ev.Str("user.name") == "bob" {
			dovecot++
		}
	}
	// The warnings: the dovecot line, and the stamps' missing zone.
	if dovecot != 1 || len(st.Warnings) != 2 || !strings.Contains(st.Warnings[1], "dovecot") || !strings.HasPrefix(st.Warnings[0], "the mail log's stamps name no zone: read in UTC") {
		t.Errorf("dovecot line in a postfix file: %d events, warnings %v", dovecot, st.Warnings)
	}
	var msgs []*event.Event
	for _, ev := range evs {
		if ev.Str("event.action") == "message" {
			msgs = append(msgs, ev)
		}
	}
	if len(msgs) != 2 {
		t.Fatalf("%d message events", len(msgs))
	}
	want(t, "joined message", msgs[0], "2025-03-14T22:43:32.12Z", map[string]any{
		"email.from.address": "j.martin@agglo-exemple.fr", "email.to.address": []string{"jmartin.perso@gmail.com", "copie@yahoo.fr"},
		"email.size": int64(18874368), "user.name": "j.martin", "source.ip": "10.212.134.200", "source.domain": nil,
		"email.message_id": "1741992212.42@agglo-exemple.fr", "postfix.queue_id": "0A1B2C3D4",
		"postfix.status": []string{"jmartin.perso@gmail.com=sent", "copie@yahoo.fr=sent"},
		"destination.ip": "142.250.27.27", "destination.domain": "gmail-smtp-in.l.google.com",
		"event.outcome": "success", "postfix.incomplete": nil, "evidence.line": int64(2),
		"postfix.lines": []string{"2", "3", "4", "6", "7", "8", "9"},
	})
	want(t, "message still queued at end of log", msgs[1], "2025-03-14T22:50:00Z", map[string]any{
		"postfix.incomplete": "true", "source.ip": "93.184.216.40", "source.domain": "mail.partner.fr",
	})
	for _, ev := range evs {
		switch ev.Str("event.action") {
		case "sasl-authentication-failed":
			want(t, "sasl failure, year-less stamp", ev, "2024-05-11T04:02:36Z", map[string]any{"source.ip": "192.168.1.1", "event.outcome": "failure"})
		case "reject":
			want(t, "NOQUEUE reject", ev, "2024-06-04T22:24:28Z", map[string]any{
				"source.ip": "192.168.1.1", "email.from.address": "spammer@domain.tld", "email.to.address": []string{"spameri@tiscali.it"},
				"event.reason": "454 4.7.1 <spameri@tiscali.it>: Relay access denied",
			})
		}
	}
}

func TestWinlogbeat(t *testing.T) {
	evs, st := parseFile(t, "testdata/winlogbeat.json", &Options{TZ: time.UTC})
	if st.Format != "winlogbeat" || st.Parsed != 2 || st.Raw != 1 {
		t.Fatalf("stats %+v", st)
	}
	want(t, "4624", evs[0], "2025-03-14T22:05:11.123Z", map[string]any{
		"event.dataset": "system.security", "event.code": "4624", "user.name": "j.martin", "user.domain": "AGGLO",
		"source.ip": "10.212.134.200", "winlog.logon.type": "RemoteInteractive", "event.action": "logged-in",
		"host.name": "FS01.agglo.local", "winlog.record_id": int64(881234), "message": "An account was successfully logged on.",
	})
	want(t, "sysmon 1", evs[1], "2025-03-14T22:14:11.5Z", map[string]any{
		"event.dataset": "windows.sysmon_operational", "process.name": "svchost64.exe", "process.pid": int64(6052),
		"process.command_line": `svchost64.exe copy C:\PerfLogs\x.7z mega:x`, "process.parent.name": "cmd.exe",
		"user.name": "j.martin", "user.domain": "AGGLO", "event.category": []string{"process"},
	})
	if evs[2].Str(event.FieldKind) != event.KindRaw || !strings.Contains(evs[2].Str(event.FieldError), "@timestamp") {
		t.Errorf("bad line: %v", evs[2].Fields)
	}
}

// TestSyslogYearAndZone: year-less stamps take --year and --tz, and roll into the next year.
func TestSyslogYearAndZone(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	c := &syslogClock{Year: 2024, Loc: paris}
	for _, tc := range []struct{ line, want string }{
		{"Dec 31 23:59:59 mail01 postfix/qmgr[1]: x", "2024-12-31T22:59:59Z"},
		{"Jan  1 00:00:01 mail01 postfix/qmgr[1]: x", "2024-12-31T23:00:01Z"},
		{"Jul 14 12:00:00 mail01 postfix/qmgr[1]: x", "2025-07-14T10:00:00Z"},
		{"<34>1 2025-03-14T22:05:11.5+01:00 fw app 12 ID47 - msg", "2025-03-14T21:05:11.5Z"},
	} {
		h, err := c.parse(tc.line)
		if err != nil {
			t.Fatalf("%q: %v", tc.line, err)
		}
		if !h.Time.Equal(utc(tc.want)) {
			t.Errorf("%q: %s, want %s", tc.line, h.Time.Format(time.RFC3339Nano), tc.want)
		}
	}
}

func TestSamplesIncident(t *testing.T) {
	dir := filepath.Join("..", "samples", "incident")
	counts := map[string]int64{}
	var rdp, cleared, staged int
	for _, f := range []string{"firewall/fortigate.log", "mail/mail.log", "windows/FS01-Security.xml", "windows/FS01-System.xml"} {
		evs, st := parseFile(t, filepath.Join(dir, f), &Options{TZ: time.UTC})
		if st.Raw != 0 || st.Lost != 0 {
			t.Errorf("%s: raw %d lost %d: %v %v", f, st.Raw, st.Lost, st.RawReasons, st.LostReasons)
		}
		counts[f] = st.Parsed
		for _, ev := range evs {
			switch {
			case ev.Str("event.code") == "4624" && ev.Str("winlog.logon.type") == "RemoteInteractive":
				rdp++
				want(t, "RDP logon", ev, "", map[string]any{"user.name": "j.martin", "source.ip": "10.212.134.200", "host.name": "FS01.agglo.local"})
			case ev.Str("event.code") == "1102":
				cleared++
				want(t, "log cleared", ev, "2025-03-15T01:01:45Z", map[string]any{"user.name": "j.martin", "event.action": "audit-log-cleared", "user.domain": "AGGLO"})
			case ev.Str("event.code") == "4663" && ev.Str("process.name") == "7z.exe":
				staged++
			}
		}
	}
	want := map[string]int64{"firewall/fortigate.log": 8211, "mail/mail.log": 414, "windows/FS01-Security.xml": 1208, "windows/FS01-System.xml": 7}
	if !reflect.DeepEqual(counts, want) {
		t.Errorf("counts %v, want %v", counts, want)
	}
	if rdp != 1 || cleared != 1 || staged != 240 {
		t.Errorf("rdp %d cleared %d staged %d", rdp, cleared, staged)
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	garbage := make([]byte, 1<<16)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range garbage {
		garbage[i] = byte(r.IntN(256))
	}
	os.WriteFile(filepath.Join(dir, "garbage.bin"), garbage, 0o644)
	in, _ := Open(filepath.Join(dir, "garbage.bin"))
	_, err := Parse(in, &Options{}, func(*event.Event) {})
	if err == nil || !strings.Contains(err.Error(), "binary content") {
		t.Errorf("garbage: %v", err)
	}

	// A 10 MB line between two good lines: kept raw, truncated, with the reason.
	good, _ := os.ReadFile("testdata/fortigate.log")
	lines := strings.SplitN(string(good), "\n", 3)
	var buf bytes.Buffer
	buf.WriteString(lines[1] + "\n")
	buf.WriteString("date=2025-01-01 logid=1 " + strings.Repeat("x", 10<<20) + "\n")
	buf.WriteString(lines[1] + "\n")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(buf.Bytes())
	zw.Close()
	os.WriteFile(filepath.Join(dir, "long.log.gz"), gz.Bytes(), 0o644)
	evs, st := parseFile(t, filepath.Join(dir, "long.log.gz"), &Options{})
	if st.Format != "fortigate" || st.Parsed != 2 || st.Raw != 1 || len(evs) != 3 {
		t.Fatalf("long line: %+v", st)
	}
	if n := len(evs[1].Str(event.FieldOriginal)); n != rawKeep || !strings.Contains(evs[1].Str(event.FieldError), "longer than") {
		t.Errorf("long line kept %d bytes, reason %q", n, evs[1].Str(event.FieldError))
	}
	if evs[2].Fields[event.FieldLine] != int64(3) {
		t.Errorf("line numbering after long line: %v", evs[2].Fields[event.FieldLine])
	}

	// Empty, or blank: read, no events, said so; not an unknown format.
	var gzEmpty bytes.Buffer
	gzip.NewWriter(&gzEmpty).Close()
	for name, c := range map[string]struct {
		data []byte
		what string
	}{
		"empty.log":     {nil, "(0 bytes)"},
		"blank.log":     {[]byte("\n\r\n  \t\n"), "(only blank space)"},
		"bom.log":       {[]byte("\xef\xbb\xbf\r\n"), "(only blank space)"},
		"utf16.txt":     {[]byte("\xff\xfe\r\x00\n\x00"), "(only blank space)"},
		"utf16-bom.txt": {[]byte("\xff\xfe"), "(only blank space)"},
		"empty.log.gz":  {gzEmpty.Bytes(), "(only blank space, compressed)"},
		"spaces.log.gz": {compressors["gzip"](t, []byte("\n\n")), "(only blank space, compressed)"},
	} {
		os.WriteFile(filepath.Join(dir, name), c.data, 0o644)
		for _, o := range []*Options{{}, {Format: "fortigate"}} {
			evs, st := parseFile(t, filepath.Join(dir, name), o)
			if len(evs) != 0 || len(st.Warnings) != 1 || st.Warnings[0] != "empty: the file holds no log line "+c.what+", so no events" {
				t.Errorf("%s (format %q): %d events, %q", name, o.Format, len(evs), st.Warnings)
			}
		}
	}
	for name, data := range map[string][]byte{
		"one-letter.log": []byte("\n\nx\n"),
		"bom-text.log":   []byte("\xef\xbb\xbfhello\n"),
		"utf16-text.txt": []byte("\xff\xfeh\x00i\x00"),
		"cut.log.gz":     compressors["gzip"](t, []byte("\n\n"))[:12],
	} {
		os.WriteFile(filepath.Join(dir, name), data, 0o644)
		in, err := Open(filepath.Join(dir, name))
		if err == nil {
			_, err = Parse(in, &Options{}, func(*event.Event) {})
			in.Close()
		}
		if err == nil {
			t.Errorf("%s: read as empty", name)
		}
	}

	// An encrypted envelope (DFIR ORC's .p7b): named, with what to do;
	// signed data (a certificate chain) is not taken for one.
	oid := []byte{0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07}
	for name, c := range map[string]struct {
		head []byte
		want string
	}{
		"orc.7z.p7b":   {append([]byte{0x30, 0x82, 0x10, 0x00}, append(oid, 0x03, 0xa0, 0x82)...), "encrypted envelope (CMS enveloped data"},
		"stream.p7b":   {append([]byte{0x30, 0x80}, append(oid, 0x03, 0xa0, 0x80)...), "encrypted envelope (CMS enveloped data"},
		"short.p7b":    {append([]byte{0x30, 0x7f}, append(oid, 0x03)...), "encrypted envelope (CMS enveloped data"},
		"certs.p7b":    {append([]byte{0x30, 0x82, 0x10, 0x00}, append(oid, 0x02, 0xa0, 0x82)...), "binary content"},
		"too-long.bin": {append([]byte{0x30, 0x85, 1, 2, 3, 4, 5}, append(oid, 0x03)...), "binary content"},
	} {
		data := append(c.head, garbage[:4096]...)
		os.WriteFile(filepath.Join(dir, name), data, 0o644)
		in, _ := Open(filepath.Join(dir, name))
		if _, err := Parse(in, &Options{}, func(*event.Event) {}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v", name, err)
		}
		in.Close()
	}

	// Unknown text format.
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("hello\nworld\n"), 0o644)
	in, _ = Open(filepath.Join(dir, "notes.txt"))
	if _, err := Parse(in, &Options{}, func(*event.Event) {}); err == nil || !strings.Contains(err.Error(), `"hello"`) {
		t.Errorf("unknown format: %v", err)
	}
	// Unreadable path.
	if _, err := Open(filepath.Join(dir, "missing.log")); err == nil {
		t.Error("missing file opened")
	}
}

// TestDeterministicIDs: the same file parsed twice gives the same ids.
func TestDeterministicIDs(t *testing.T) {
	a, _ := parseFile(t, "testdata/postfix.log", &Options{TZ: time.UTC, Year: 2024})
	b, _ := parseFile(t, "testdata/postfix.log", &Options{TZ: time.UTC, Year: 2024})
	seen := map[string]bool{}
	for i := range a {
		id := a[i].Str(event.FieldID)
		if id != b[i].Str(event.FieldID) {
			t.Fatalf("event %d: ids differ", i)
		}
		if seen[id] {
			t.Fatalf("duplicate id %s", id)
		}
		seen[id] = true
	}
}

func TestCiscoASA(t *testing.T) {
	evs, st := parseFile(t, "testdata/cisco_asa.log", &Options{TZ: time.UTC, Year: 2025})
	if st.Format != "cisco-asa" || st.Parsed != 6 || st.Raw != 0 {
		t.Fatalf("stats %+v", st)
	}
	want(t, "built outbound", evs[0], "2025-03-14T23:05:01Z", map[string]any{
		"source.ip": "10.10.1.20", "source.port": int64(60100), "source.nat.ip": "203.0.113.10", "destination.ip": "31.216.145.5",
		"destination.port": int64(443), "network.direction": "outbound", "network.transport": "tcp", "cisco.connection_id": "4812",
	})
	want(t, "teardown: bytes of both directions", evs[1], "2025-03-14T23:23:04Z", map[string]any{
		"network.bytes": int64(228392011), "source.bytes": nil, "destination.bytes": nil, "event.start": "2025-03-14T23:05:01Z",
		// Its Built said outbound: the initiator (inside) is the source.
		"source.ip": "10.10.1.20", "destination.ip": "31.216.145.5", "event.reason": "TCP FINs from inside", "network.direction": "outbound",
	})
	want(t, "deny", evs[2], "", map[string]any{"source.ip": "111.93.241.59", "source.port": int64(54322), "destination.ip": "116.6.127.122",
		"destination.port": int64(1433), "event.outcome": "failure"})
	want(t, "anyconnect assigned address", evs[3], "", map[string]any{"user.name": "j.martin", "source.ip": "185.220.101.47",
		"cisco.vpn.assigned_ip": "10.212.134.200", "event.action": "vpn-session-start"})
	want(t, "vpn session end with bytes", evs[4], "", map[string]any{"user.name": "j.martin", "source.bytes": int64(48211004),
		"destination.bytes": int64(912554371), "event.duration": int64((3*3600 + 14*60 + 40) * time.Second)})
	want(t, "FTD connection event", evs[5], "", map[string]any{"source.ip": "10.10.1.20", "destination.ip": "31.216.145.5",
		"source.bytes": int64(5000000), "destination.bytes": int64(2000), "event.action": "allow", "event.dataset": "cisco.ftd"})
	// The shared corpus' real ASA lines: every one parses.
	dir := corpus.Dir(t, "firewall/cisco-asa")
	_, st = parseFile(t, filepath.Join(dir, "wazuh-cisco_asa.log"), &Options{TZ: time.UTC, Year: 2025})
	if st.Format != "cisco-asa" || st.Raw != 0 {
		t.Errorf("wazuh ASA lines: %+v", st)
	}
}

// TestDovecotMailboxDownload: an IMAP logout's out= is what the mailbox sent to the client.
func TestDovecotMailboxDownload(t *testing.T) {
	evs, st := parseFile(t, "testdata/dovecot.log", &Options{TZ: time.UTC, Year: 2025})
	if st.Format != "dovecot" || st.Parsed != 2 {
		t.Fatalf("stats %+v", st)
	}
	want(t, "logout", evs[0], "2025-03-14T23:59:01Z", map[string]any{"user.name": "j.martin", "destination.bytes": int64(734003200),
		"source.bytes": int64(1843), "event.action": "logged-out", "network.protocol": "imap"})
	want(t, "login", evs[1], "", map[string]any{"user.name": "j.martin", "source.ip": "10.212.134.200", "destination.ip": "10.10.1.25",
		"event.outcome": "success"})
}

func TestSquid(t *testing.T) {
	dir := corpus.Dir(t, "proxy/squid")
	evs, st := parseFile(t, filepath.Join(dir, "wazuh-squid_rules.log"), &Options{TZ: time.UTC})
	if st.Format != "squid" || st.Raw != 0 || st.Parsed == 0 {
		t.Fatalf("stats %+v %v", st, st.RawReasons)
	}
	want(t, "denied", evs[1], "2006-02-23T13:27:10.827Z", map[string]any{"source.ip": "192.168.1.210", "squid.result_code": "TCP_DENIED",
		"http.response.status_code": int64(407), "http.response.bytes": int64(1785), "http.request.method": "GET",
		"url.domain": "www.ossec.net", "user.name": "oahmet", "event.outcome": "failure",
		"event.duration": int64(781 * time.Millisecond), "event.start": "2006-02-23T13:27:10.046Z"})
}

func TestZeek(t *testing.T) {
	evs, st := parseFile(t, "testdata/zeek_conn.log", &Options{TZ: time.UTC})
	if st.Format != "zeek" || st.Raw != 0 {
		t.Fatalf("stats %+v %v", st, st.RawReasons)
	}
	conn := evs[len(evs)-1]
	want(t, "conn TSV", conn, "2025-03-14T22:50:37.123456Z", map[string]any{"source.ip": "10.10.1.20", "destination.ip": "31.216.145.5",
		"destination.port": int64(443), "source.bytes": int64(228392011), "destination.bytes": int64(2537689), "network.protocol": "ssl",
		"network.direction": "outbound", "event.duration": int64(1083500000000), "event.dataset": "zeek.conn"})
	evs, st = parseFile(t, "testdata/zeek_conn.json", &Options{TZ: time.UTC})
	if st.Format != "zeek" || st.Parsed != 1 {
		t.Fatalf("json stats %+v", st)
	}
	want(t, "conn JSON", evs[0], "2025-03-14T22:50:37.5Z", map[string]any{"source.bytes": int64(1000), "source.port": int64(60101)})
}

// TestMixedDirectory: every format together in one directory, some gzipped,
// each file detected by content whatever its name.
func TestMixedDirectory(t *testing.T) {
	src := map[string]string{
		"testdata/fortigate.log": "fortigate", "testdata/postfix.log": "postfix", "testdata/winlogbeat.json": "winlogbeat",
		"testdata/cisco_asa.log": "cisco-asa", "testdata/dovecot.log": "dovecot", "testdata/zeek_conn.log": "zeek",
		"../samples/incident/windows/FS01-System.xml": "windows-xml",
	}
	extra := map[string]string{
		"firewall/stormshield/elastic/test-firewall.log": "stormshield", "mail/exchange/elastic/test-messagetracking.log": "exchange",
		"crowdsec/iptables-logs/iptables-logs.log": "netfilter", "crowdsec/pf-logs/pf-logs.log": "pf-filterlog",
		"crowdsec/palo-alto-threat/palo-alto-threat.log": "panos", "proxy/squid/wazuh-squid_rules.log": "squid",
		"evtx/omerbenamram-evtx/security.evtx": "evtx",
	}
	if root := filepath.Join(corpus.Root(t), "..", "shared", "corpus"); fileExists(root) {
		for p, f := range extra {
			src[filepath.Join(root, p)] = f
		}
	} else {
		t.Log("shared corpus absent: mixed directory without its formats")
	}
	// Every format's golden input, and logs inside collectors' exports.
	for name, format := range wantFormat {
		src[filepath.Join("testdata/formats", name)] = format
	}
	exp := t.TempDir()
	fl, _ := os.ReadFile("testdata/fortigate.log")
	lines := strings.Split(strings.TrimSpace(string(fl)), "\n")
	os.WriteFile(filepath.Join(exp, "graylog.csv"), exportVariants["graylog.csv"](nil, lines, nil), 0o644)
	os.WriteFile(filepath.Join(exp, "search.json"), exportVariants["search.json"](nil, lines, nil), 0o644)
	os.WriteFile(filepath.Join(exp, "archives.json"), exportVariants["archives.json"](nil, lines, nil), 0o644)
	src[filepath.Join(exp, "graylog.csv")] = "csv-export"
	src[filepath.Join(exp, "search.json")] = "json-export"
	src[filepath.Join(exp, "archives.json")] = "json-export"
	dir := t.TempDir()
	want := map[string]string{}
	i := 0
	for p, format := range src {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		i++
		name := filepath.Join(dir, fmt.Sprintf("evidence-%02d.bin", i)) // names say nothing
		if i%2 == 0 {
			var gz bytes.Buffer
			zw := gzip.NewWriter(&gz)
			zw.Write(b)
			zw.Close()
			b = gz.Bytes()
			name += ".gz"
		}
		os.WriteFile(name, b, 0o644)
		want[name] = format
	}
	files, _, err := Expand([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(want) {
		t.Fatalf("expanded %d files, want %d", len(files), len(want))
	}
	for _, f := range files {
		_, st := parseFile(t, f, &Options{TZ: time.UTC, Year: 2025})
		if st.Format != want[f] {
			t.Errorf("%s: detected %s, want %s", f, st.Format, want[f])
		}
		if st.Raw != 0 && want[f] != "postfix" && want[f] != "winlogbeat" {
			t.Errorf("%s (%s): %d raw: %v", f, st.Format, st.Raw, st.RawReasons)
		}
	}
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// TestWindowsBITS: BITS client 60 carries the bytes a transfer moved.
func TestWindowsBITS(t *testing.T) {
	dir := corpus.Dir(t, "evtx/evtx-to-mitre-attack")
	evs, _ := parseFile(t, filepath.Join(dir, "ID60-High_volume_file_downloaded_with_BITS.evtx"), &Options{})
	found := false
	for _, ev := range evs {
		if n, _ := ev.Int("bits.bytes_transferred"); n == 2497476607 {
			found = true
			want(t, "BITS 60", ev, "", map[string]any{"event.action": "bits-transfer-stopped", "bits.bytes_total": int64(3071934464),
				"url.original": "https://releases.ubuntu.com/20.04.3/ubuntu-20.04.3-desktop-amd64.iso"})
		}
	}
	if !found {
		t.Error("no BITS 60 event with 2,497,476,607 bytes transferred")
	}
}

func TestExim(t *testing.T) {
	evs, st := parseFile(t, "testdata/exim.log", &Options{TZ: time.UTC})
	if st.Format != "exim" || st.Raw != 0 || len(evs) != 3 {
		t.Fatalf("stats %+v, %d events", st, len(evs))
	}
	var msg, auth *event.Event
	for _, ev := range evs {
		switch ev.Str("event.action") {
		case "message":
			msg = ev
		case "authentication-failed":
			auth = ev
		}
	}
	want(t, "joined message", msg, "2025-03-14T23:43:32Z", map[string]any{"email.from.address": "j.martin@agglo-exemple.fr",
		"email.to.address": []string{"jmartin.perso@gmail.com", "copie@yahoo.fr"}, "email.size": int64(18874368), "user.name": "j.martin",
		"source.ip": "10.212.134.200", "destination.ip": "142.250.27.27", "exim.queue_id": "1tMk5X-000Abc-Qr", "event.outcome": "success"})
	// crowdsec exim-logs/parser.assert [0]: source_ip, source_port, username, helo
	want(t, "auth failure", auth, "2022-06-29T16:04:19Z", map[string]any{"source.ip": "1.2.3.4", "source.port": int64(55379),
		"user.name": "abuse@test.com", "exim.helo": "[1.2.3.5]", "event.outcome": "failure"})
	dir := corpus.Dir(t, "crowdsec/exim-logs")
	_, st = parseFile(t, filepath.Join(dir, "exim-logs.log"), &Options{TZ: time.UTC})
	if st.Format != "exim" || st.Raw != 0 {
		t.Errorf("crowdsec exim lines: %+v %v", st, st.RawReasons)
	}
}

func TestCEFAndLEEF(t *testing.T) {
	evs, st := parseFile(t, "testdata/cef_leef.log", &Options{TZ: time.UTC, Year: 2025})
	if st.Format != "cef" || st.Parsed != 1 {
		t.Fatalf("cef: %+v %v", st, st.RawReasons)
	}
	want(t, "cef", evs[0], "2025-03-14T23:50:40Z", map[string]any{"source.ip": "10.10.1.20", "destination.ip": "31.216.145.5",
		"source.port": int64(60100), "destination.port": int64(443), "source.bytes": int64(228392011), "destination.bytes": int64(2537689),
		"user.name": "j.martin", "event.action": "allow", "observer.vendor": "Sophos", "cef.extensions.msg": "a value with spaces and = sign",
		"url.original": "https://mega.nz/upload"})
	evs, st = parseFile(t, "testdata/leef.log", &Options{TZ: time.UTC, Year: 2025})
	if st.Format != "leef" || st.Parsed != 1 {
		t.Fatalf("leef: %+v %v", st, st.RawReasons)
	}
	want(t, "leef", evs[0], "2025-03-14T23:50:41Z", map[string]any{"source.ip": "10.10.1.20", "destination.port": int64(443),
		"source.bytes": int64(5000), "user.name": "j.martin", "network.transport": "tcp", "event.action": "Allow"})
}

func TestCheckPoint(t *testing.T) {
	dir := corpus.Dir(t, "firewall/checkpoint")
	evs, st := parseFile(t, filepath.Join(dir, "wazuh-checkpoint_smart1.log"), &Options{TZ: time.UTC})
	if st.Format != "checkpoint" || st.Raw != 0 {
		t.Fatalf("stats %+v %v", st, st.RawReasons)
	}
	want(t, "drop", evs[0], "2019-05-15T16:25:50Z", map[string]any{"source.ip": "11.22.33.77", "destination.ip": "11.22.33.55",
		"source.port": int64(55036), "destination.port": int64(1514), "network.transport": "udp", "event.action": "drop",
		"rule.name": "CleanUp Rule", "event.outcome": "failure", "observer.ip": "11.22.33.44"})
}

func TestM365Audit(t *testing.T) {
	evs, st := parseFile(t, "testdata/m365.csv", &Options{TZ: time.UTC})
	if st.Format != "m365-audit" || st.Raw != 0 || len(evs) != 3 {
		t.Fatalf("stats %+v %v", st, st.RawReasons)
	}
	want(t, "inbox rule forwarding", evs[1], "2025-03-14T22:40:00Z", map[string]any{"event.action": "New-InboxRule",
		"user.name": "j.martin@agglo-exemple.fr", "source.ip": "185.220.101.47", "o365.audit.forwarding_address": []string{"jmartin.perso@gmail.com"}})
	want(t, "download", evs[2], "2025-03-14T22:45:00Z", map[string]any{"event.action": "FileDownloaded", "source.ip": "2a01:cb00::1",
		"file.name": "2024.xlsx", "url.original": "https://agglo.sharepoint.com/sites/RH/Paie/2024.xlsx"})
}

func TestSendmail(t *testing.T) {
	evs, st := parseFile(t, "testdata/sendmail.log", &Options{TZ: time.UTC, Year: 2025})
	if st.Format != "sendmail" || st.Raw != 0 || len(evs) != 2 {
		t.Fatalf("stats %+v %v, %d events", st, st.RawReasons, len(evs))
	}
	var msg, rej *event.Event
	for _, ev := range evs {
		if ev.Str("event.action") == "message" {
			msg = ev
		} else {
			rej = ev
		}
	}
	want(t, "message", msg, "2025-03-14T23:43:32Z", map[string]any{"email.from.address": "j.martin@agglo-exemple.fr",
		"email.to.address": []string{"jmartin.perso@gmail.com"}, "email.size": int64(18874368), "user.name": "j.martin",
		"source.ip": "10.212.134.200", "destination.ip": "142.250.27.27", "event.outcome": "success"})
	want(t, "reject", rej, "2025-02-25T03:01:10Z", map[string]any{"source.ip": "128.68.136.133", "event.outcome": "failure",
		"email.to.address": []string{"asservnew@freemailhost.ru"}})
	dir := corpus.Dir(t, "mail/sendmail/fail2ban")
	_, st = parseFile(t, filepath.Join(dir, "sendmail-reject.log"), &Options{TZ: time.UTC, Year: 2025})
	// Every log line parses; the 48 raw ones are fail2ban's "# failJSON" annotations.
	if st.Format != "sendmail" || st.Parsed != 45 || st.Raw != 48 {
		t.Errorf("fail2ban sendmail lines: parsed %d raw %d", st.Parsed, st.Raw)
	}
	t.Logf("fail2ban sendmail-reject.log: %d parsed, %d raw %v", st.Parsed, st.Raw, st.RawReasons)
}

// TestVolumeFields: byte fields and their direction, format by format, on
// lines built from the vendors' documented field layouts.
func TestVolumeFields(t *testing.T) {
	evs, st := parseFile(t, "testdata/panos_traffic.log", &Options{TZ: time.UTC, Year: 2025})
	if st.Format != "panos" || st.Parsed != 1 {
		t.Fatalf("panos: %+v %v", st, st.RawReasons)
	}
	want(t, "PAN-OS TRAFFIC end", evs[0], "2025-03-14T23:50:40Z", map[string]any{"source.ip": "10.10.1.20", "destination.ip": "31.216.145.5",
		"source.bytes": int64(228392011), "destination.bytes": int64(2537689), "network.bytes": int64(230929700),
		"user.name": "j.martin", "user.domain": "agglo", "event.action": "allow", "event.start": "2025-03-14T23:32:37Z",
		"panw.panos.end_reason": "tcp-fin", "tags": nil})
	evs, st = parseFile(t, "testdata/suricata_flow.json", &Options{TZ: time.UTC})
	if st.Format != "suricata" || st.Parsed != 1 {
		t.Fatalf("suricata: %+v %v", st, st.RawReasons)
	}
	want(t, "Suricata flow", evs[0], "2025-03-14T22:50:40Z", map[string]any{"source.bytes": int64(228392011), "destination.bytes": int64(2537689),
		"event.start": "2025-03-14T22:32:37Z", "network.protocol": "tls", "event.dataset": "suricata.flow"})
}

// TestWindowsSMBServer: SMB server events say who reached which share from
// where; the client address is a SOCKADDR logged as hex. The records are
// built from the event fields OSSEM lists for the provider and the field
// names SigmaHQ's smbserver-connectivity rule uses.
func TestWindowsSMBServer(t *testing.T) {
	evs, st := parseFile(t, "testdata/smbserver.xml", &Options{})
	if st.Format != "windows-xml" || st.Parsed != 3 || st.Raw != 0 || len(evs) != 3 {
		t.Fatalf("stats %+v, %d events", st, len(evs))
	}
	want(t, "4000 IPv4", evs[0], "2025-03-14T21:58:12.5Z", map[string]any{
		"event.dataset": "windows.microsoft_windows_smbserver_connectivity", "event.action": "smb-share-connected",
		"event.outcome": "success", "source.ip": "10.10.1.21", "source.port": int64(51234),
		"winlog.share_name": `\\*\ADMIN$`, "host.name": "FS01.agglo.local", "winlog.event_data.SigningUsed": "false",
	})
	want(t, "1006 IPv6", evs[1], "2025-03-14T22:01:03Z", map[string]any{
		"event.action": "smb-share-access-denied", "event.outcome": "failure", "source.ip": "2001:db8::25", "source.port": int64(51235),
		"user.name": "jdupont", "user.domain": "AGGLO", "file.path": `D:\Partages\RH`, "winlog.share_name": `\\*\RH`, "source.domain": nil,
	})
	want(t, "3000 client name only", evs[2], "", map[string]any{
		"event.action": "smb1-access", "source.ip": "10.10.1.40", "source.port": nil,
	})
	for _, bad := range []string{"", "02", "zz00C8220A0A0115", "0900C8220A0A0115"} {
		if ip, _, ok := sockaddrFromHex(bad); ok {
			t.Errorf("sockaddrFromHex(%q) = %s, want not decoded", bad, ip)
		}
	}
}

// TestSonicWall: byte fields, direction and times of SonicOS syslog; lines
// written from SonicWall's documented field layout (sent/rcvd on m=537).
func TestSonicWall(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	evs, st := parseFile(t, "testdata/sonicwall.log", &Options{TZ: paris, Year: 2025})
	if st.Format != "sonicwall" || st.Parsed != 3 || st.Raw != 0 {
		t.Fatalf("stats %+v", st)
	}
	want(t, "connection closed", evs[0], "2025-03-14T23:10:02Z", map[string]any{
		"event.dataset": "sonicwall.firewall", "event.action": "connection-closed", "event.code": "537",
		"source.ip": "10.10.1.20", "source.port": int64(60122), "destination.ip": "31.216.145.5", "destination.port": int64(443),
		"source.bytes": int64(228392011), "destination.bytes": int64(2537689), "network.transport": "tcp", "network.protocol": "https",
		"network.direction": "outbound", "observer.ip": "203.0.113.10", "observer.ingress.interface.name": "X0",
		"sonicwall.firewall.appName": "General HTTPS MGMT", "rule.name": "5 (LAN->WAN)", "source.mac": "00-15-5D-01-02-03",
	})
	// No "UTC": the appliance's local time, taken in --tz (Paris, UTC+1 in March).
	want(t, "admin login denied", evs[1], "2025-03-14T23:12:00Z", map[string]any{
		"user.name": "admin", "event.outcome": "failure", "event.category": []string{"authentication"},
		"source.ip": "198.51.100.7", "source.bytes": nil,
	})
	want(t, "IPv6 drop", evs[2], "2025-03-14T23:15:00Z", map[string]any{
		"source.ip": "2001:db8::5", "source.port": int64(49702), "destination.ip": "2001:db8:1::9", "destination.port": int64(445),
		"event.action": "connection-dropped", "event.outcome": "failure", "network.protocol": nil,
	})
}

// TestSonicWallCorpus: the real SonicWall lines of Wazuh's rule tests, in place.
func TestSonicWallCorpus(t *testing.T) {
	p := filepath.Join(corpus.Dir(t, "firewall/sonicwall"), "wazuh-SonicWall.log")
	evs, st := parseFile(t, p, &Options{TZ: time.UTC, Year: 2019})
	if st.Format != "sonicwall" || st.Raw != 0 || st.Parsed != 8 {
		t.Fatalf("stats %+v", st)
	}
	want(t, "web site denied", evs[6], "2019-03-18T08:33:45Z", map[string]any{
		"source.ip": "192.168.0.62", "source.port": int64(54993), "source.domain": "pc048.example.com",
		"destination.ip": "151.101.242.49", "destination.port": int64(443), "destination.domain": "example.com",
		"url.path": "/", "event.outcome": "failure", "sonicwall.firewall.Category": "Freeware/Software Downloads",
	})
	want(t, "IPv6 multicast drop", evs[1], "2019-02-15T09:45:17Z", map[string]any{
		"source.ip": "fe80::9851:b780:9d9d:a29e", "source.port": int64(49702), "destination.ip": "ff02::1:3", "destination.port": int64(5355),
		"network.transport": "udp",
	})
	want(t, "behind syslog, local time", evs[3], "2007-01-03T14:48:06Z", map[string]any{
		"source.ip": "2.2.2.2", "destination.port": int64(50000), "event.action": "connection-opened", "observer.ip": "1.1.1.1",
	})
}

// TestEmptyWevtutilExport: wevtutil's output for a log with nothing in the
// query is an <Events> root and nothing inside; it ingests as 0 events of
// format windows-xml, not as an unknown format.
func TestEmptyWevtutilExport(t *testing.T) {
	for name, content := range map[string]string{
		"root":        "<Events>\n</Events>\n",
		"bom-crlf":    "\ufeff<Events>\r\n</Events>\r\n",
		"prolog":      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Events>\n</Events>\n",
		"self-closed": "<Events/>\n",
	} {
		p := filepath.Join(t.TempDir(), "empty.xml")
		os.WriteFile(p, []byte(content), 0o644)
		evs, st := parseFile(t, p, &Options{TZ: time.UTC})
		if st.Format != "windows-xml" || len(evs) != 0 || st.Parsed != 0 || st.Raw != 0 || st.Lost != 0 || st.Error != "" {
			t.Errorf("%s: format %q, %d events, stats %+v", name, st.Format, len(evs), st)
		}
	}
	// Not every <Events> document is an empty export.
	if _, err := Detect([]byte("<Events><Foo/></Events>")); err == nil {
		t.Error("an <Events> root with foreign content was taken for a Windows export")
	}
}

// TestFortiGateInterimRecords: interim records of a long session keep their
// running totals under fortinet.firewall.* and carry no source.bytes, so any
// sum of source.bytes counts the session once, at its closing record.
func TestFortiGateInterimRecords(t *testing.T) {
	lines := `date=2025-03-14 time=23:00:00 tz="+0100" logid="0000000013" type="traffic" subtype="forward" srcip=10.10.1.20 srcport=60100 dstip=31.216.145.5 dstport=443 sessionid=77 proto=6 action="accept" duration=120 sentbyte=1000 rcvdbyte=10 sentdelta=1000 rcvddelta=10
date=2025-03-14 time=23:02:00 tz="+0100" logid="0000000013" type="traffic" subtype="forward" srcip=10.10.1.20 srcport=60100 dstip=31.216.145.5 dstport=443 sessionid=77 proto=6 action="accept" duration=240 sentbyte=3000 rcvdbyte=30 sentdelta=2000 rcvddelta=20
date=2025-03-14 time=23:03:30 tz="+0100" logid="0000000013" type="traffic" subtype="forward" srcip=10.10.1.20 srcport=60100 dstip=31.216.145.5 dstport=443 sessionid=77 proto=6 action="close" duration=330 sentbyte=3500 rcvdbyte=35 sentdelta=500 rcvddelta=5
`
	p := filepath.Join(t.TempDir(), "fgt.log")
	os.WriteFile(p, []byte(lines), 0o644)
	evs, st := parseFile(t, p, &Options{TZ: time.UTC})
	if st.Parsed != 3 {
		t.Fatalf("stats %+v", st)
	}
	var sum int64
	for i, ev := range evs {
		n, ok := ev.Int("source.bytes")
		if i < 2 && ok {
			t.Errorf("interim record %d carries source.bytes %d", i, n)
		}
		sum += n
	}
	if sum != 3500 {
		t.Errorf("sum of source.bytes %d, want 3500 (the closing record)", sum)
	}
	want(t, "interim", evs[1], "2025-03-14T22:02:00Z", map[string]any{"fortinet.firewall.sentbyte": int64(3000), "fortinet.firewall.sentdelta": "2000",
		"event.type": []string{"connection", "info"}, "event.start": "2025-03-14T21:58:00Z"})
	want(t, "close", evs[2], "2025-03-14T22:03:30Z", map[string]any{"source.bytes": int64(3500), "destination.bytes": int64(35), "event.type": []string{"connection"}})
}

// TestFortiGateRequestRecords: a web filter record and an HTTP transaction
// inside a session keep their counters under fortinet.firewall.* — the
// session's traffic record counts it whole, so the sum of source.bytes is
// the session's once, not once more per request logged.
func TestFortiGateRequestRecords(t *testing.T) {
	lines := `date=2025-03-14 time=23:00:05 tz="+0100" logid="0316013057" type="utm" subtype="webfilter" eventtype="ftgd_allow" level="notice" sessionid=88 srcip=10.10.1.20 srcport=60200 dstip=31.216.145.5 dstport=443 proto=6 service="HTTPS" hostname="gfs270n102.userstorage.mega.co.nz" action="passthrough" reqtype="direct" url="/ul/Xk2a9" sentbyte=228392011 rcvdbyte=1836 direction="outgoing" catdesc="File Sharing and Storage"
date=2025-03-14 time=23:00:05 tz="+0100" logid="0000000028" type="traffic" subtype="http-transaction" sessionid=88 srcip=10.10.1.20 srcport=60200 dstip=31.216.145.5 dstport=443 proto=6 httpmethod="POST" sentbyte=228392011 rcvdbyte=1836
date=2025-03-14 time=23:04:00 tz="+0100" logid="0000000013" type="traffic" subtype="forward" sessionid=88 srcip=10.10.1.20 srcport=60200 dstip=31.216.145.5 dstport=443 proto=6 action="close" duration=240 sentbyte=228401203 rcvdbyte=9120
date=2025-03-14 time=23:05:00 tz="+0100" logid="0000000013" srcip=10.10.1.21 srcport=60300 dstip=31.216.145.6 dstport=443 proto=6 action="close" duration=10 sentbyte=700 rcvdbyte=70
`
	st, evs := parseText(t, "fgt.log", lines)
	if st.Parsed != 4 {
		t.Fatalf("stats %+v", st)
	}
	sum := sumSourceBytes(evs)
	if sum != 228401203+700 {
		t.Errorf("sum of source.bytes %d, want %d (the session's closing record and the line naming no type)", sum, 228401203+700)
	}
	want(t, "web filter", evs[0], "2025-03-14T22:00:05Z", map[string]any{"source.bytes": nil, "destination.bytes": nil,
		"fortinet.firewall.sentbyte": int64(228392011), "fortinet.firewall.rcvdbyte": int64(1836), "url.original": "/ul/Xk2a9"})
	want(t, "http transaction", evs[1], "2025-03-14T22:00:05Z", map[string]any{"source.bytes": nil, "fortinet.firewall.sentbyte": int64(228392011),
		"event.type": []string{"connection"}})
	want(t, "session", evs[2], "2025-03-14T22:04:00Z", map[string]any{"source.bytes": int64(228401203), "destination.bytes": int64(9120)})
}

// TestFortiGateRepeatedKeys: a key given twice counts by its last value,
// an empty or N/A last value included (a damaged or concatenated line), for
// keys mapped to ECS and keys kept under fortinet.firewall.* alike.
func TestFortiGateRepeatedKeys(t *testing.T) {
	const head = `date=2025-03-14 time=23:00:00 tz="+0100" logid="0000000013" type="traffic" subtype="forward" srcip=10.10.1.20 dstip=31.216.145.5 dstport=443 action="close" `
	cases := []struct {
		name, tail string
		has        map[string]any
		hasNot     []string
	}{
		{"mapped key again", `sentbyte=100 sentbyte=250 dstip=31.216.145.9`, map[string]any{"source.bytes": int64(250), "destination.ip": "31.216.145.9"}, nil},
		{"kept key again", `vd="root" sessionid=7 vd="dmz"`, map[string]any{"fortinet.firewall.vd": "dmz", "fortinet.firewall.sessionid": "7"}, nil},
		{"kept key emptied", `vd="root" vd=""`, nil, []string{"fortinet.firewall.vd"}},
		{"kept key N/A last", `appcat="Web" appcat="N/A"`, nil, []string{"fortinet.firewall.appcat"}},
		{"kept key N/A first", `appcat="N/A" appcat="Web"`, map[string]any{"fortinet.firewall.appcat": "Web"}, nil},
		{"mapped key emptied", `sentbyte=100 sentbyte=`, nil, []string{"source.bytes"}},
		{"type read and kept", `type="event" subtype="vpn"`, map[string]any{"fortinet.firewall.type": "event", "fortinet.firewall.subtype": "vpn"}, []string{"network.direction"}},
	}
	for _, c := range cases {
		var got *event.Event
		dec := FortiGate{}.NewDecoder(&Options{TZ: time.UTC})
		if err := dec.Line(1, []byte(head+c.tail), func(ev *event.Event, _ string) { got = ev }); err != nil || got == nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		want(t, c.name, got, "2025-03-14T22:00:00Z", c.has)
		for _, f := range c.hasNot {
			if v, ok := got.Fields[f]; ok {
				t.Errorf("%s: %s = %v, want none", c.name, f, v)
			}
		}
	}
}

// TestEVTXFlatEqualsTree: the EVTX reader's flat path (records filled from
// a compiled template layout, no element tree) gives exactly the events the
// tree path gives, on every record of every corpus file.
func TestEVTXFlatEqualsTree(t *testing.T) {
	var files []string
	filepath.Walk(corpus.Dir(t, "evtx"), func(p string, info os.FileInfo, err error) error {
		if err == nil && strings.HasSuffix(p, ".evtx") {
			files = append(files, p)
		}
		return nil
	})
	if sigma := filepath.Join(corpus.Dir(t, "sigma"), "regression_data"); fileExists(sigma) {
		filepath.Walk(sigma, func(p string, info os.FileInfo, err error) error {
			if err == nil && strings.HasSuffix(p, ".evtx") {
				files = append(files, p)
			}
			return nil
		})
	}
	flatRecords := 0
	for _, p := range files {
		read := func(flat bool) map[int64]*event.Event {
			f, err := os.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			st, _ := f.Stat()
			rd, err := evtx.NewReader(f, st.Size())
			if err != nil {
				t.Fatal(err)
			}
			rd.Flat = flat
			out := map[int64]*event.Event{}
			rd.Records(func(r *evtx.Record) error {
				if r.Flat != nil {
					flatRecords++
				}
				out[r.Offset] = evtxEvent(r)
				return nil
			})
			return out
		}
		tree, flat := read(false), read(true)
		if len(tree) != len(flat) {
			t.Errorf("%s: %d records as trees, %d flat", p, len(tree), len(flat))
		}
		for off, a := range tree {
			b := flat[off]
			if b == nil {
				t.Errorf("%s record at %d: missing on the flat path", p, off)
				continue
			}
			if !a.Timestamp.Equal(b.Timestamp) || len(a.Fields) != len(b.Fields) {
				t.Errorf("%s record at %d: %d fields %v vs %d fields %v", p, off, len(a.Fields), a.Timestamp, len(b.Fields), b.Timestamp)
				continue
			}
			for k, v := range a.Fields {
				if k == event.FieldOriginal {
					continue
				}
				if fmt.Sprint(v) != fmt.Sprint(b.Fields[k]) {
					t.Errorf("%s record at %d: %s = %v on the tree path, %v flat", p, off, k, v, b.Fields[k])
				}
			}
		}
	}
	if flatRecords == 0 {
		t.Fatal("no record took the flat path")
	}
	t.Logf("%d records compared on %d files (%d decoded flat)", flatRecords, len(files), flatRecords)
}

// TestWindowsXMLLegacyCodePage: a wevtutil export redirected on a French
// Windows (no XML declaration, rendered messages and names in Windows-1252)
// gives every event, its accents read as Windows-1252 and said; bytes of
// UTF-8 beside them stay UTF-8.
func TestWindowsXMLLegacyCodePage(t *testing.T) {
	const ev = `<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><Provider Name="Microsoft-Windows-Security-Auditing"/><EventID>4624</EventID><TimeCreated SystemTime="2025-03-14T22:05:1%dZ"/><EventRecordID>%d</EventRecordID><Channel>Security</Channel><Computer>SRV-MAIRIE</Computer></System><EventData><Data Name="TargetUserName">%s</Data><Data Name="LogonType">3</Data></EventData><RenderingInfo Culture="fr-FR"><Message>%s</Message></RenderingInfo></Event>` + "\n"
	var b bytes.Buffer
	fmt.Fprintf(&b, ev, 1, 101, "h\xe9l\xe8ne", "Un compte a \xe9t\xe9 ouvert \x96 session r\xe9ussie.")
	fmt.Fprintf(&b, ev, 2, 102, "jdupont", "Un compte a été ouvert.") // this one in UTF-8
	fmt.Fprintf(&b, ev, 3, 103, "fran\xe7ois", "Ouverture de session r\xe9ussie.")
	p := filepath.Join(t.TempDir(), "Security-fr.xml")
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	evs, st := parseFile(t, p, &Options{TZ: time.UTC})
	if st.Format != "windows-xml" || st.Parsed != 3 || st.Lost != 0 {
		t.Fatalf("stats %+v", st)
	}
	want(t, "cp1252", evs[0], "2025-03-14T22:05:11Z", map[string]any{"user.name": "hélène", "message": "Un compte a été ouvert – session réussie."})
	want(t, "utf-8", evs[1], "2025-03-14T22:05:12Z", map[string]any{"user.name": "jdupont", "message": "Un compte a été ouvert."})
	want(t, "cp1252 again", evs[2], "2025-03-14T22:05:13Z", map[string]any{"user.name": "françois"})
	if len(st.Warnings) != 1 || !strings.HasPrefix(st.Warnings[0], "8 bytes are not UTF-8") {
		t.Errorf("warnings %q, want the 8 bytes read as Windows-1252 said", st.Warnings)
	}
}

// TestMailStampsSayTheirZone: a mail event whose time came from a stamp
// naming no zone (classic syslog, Exim without log_timezone) says the zone
// it was read in (event.timezone), so that the report knows its order with
// other logs is open; one whose stamp named its zone does not.
func TestMailStampsSayTheirZone(t *testing.T) {
	for _, c := range []struct {
		name, text, zone string
	}{
		{"postfix, ISO with offset", "2025-03-14T23:43:32.000000+01:00 mail01 postfix/smtpd[4100]: 0A1B2C3D4: client=unknown[10.212.134.200]\n" +
			"2025-03-14T23:43:33.000000+01:00 mail01 postfix/qmgr[811]: 0A1B2C3D4: from=<a@b.fr>, size=1200, nrcpt=1 (queue active)\n" +
			"2025-03-14T23:43:34.000000+01:00 mail01 postfix/qmgr[811]: 0A1B2C3D4: removed\n", ""},
		{"postfix, classic", "Mar 14 23:43:32 mail01 postfix/smtpd[4100]: 0A1B2C3D4: client=unknown[10.212.134.200]\n" +
			"Mar 14 23:43:33 mail01 postfix/qmgr[811]: 0A1B2C3D4: from=<a@b.fr>, size=1200, nrcpt=1 (queue active)\n" +
			"Mar 14 23:43:34 mail01 postfix/qmgr[811]: 0A1B2C3D4: removed\n", "UTC"},
		{"exim, no zone", "2025-03-14 23:43:32 1tX0aB-000Abc-2D <= a@b.fr H=(x) [10.0.0.5] P=esmtpa A=login:a S=1200\n" +
			"2025-03-14 23:43:33 1tX0aB-000Abc-2D Completed\n", "UTC"},
		{"exim, log_timezone", "2025-03-14 23:43:32 +0100 1tX0aB-000Abc-2D <= a@b.fr H=(x) [10.0.0.5] P=esmtpa A=login:a S=1200\n" +
			"2025-03-14 23:43:33 +0100 1tX0aB-000Abc-2D Completed\n", ""},
	} {
		path := filepath.Join(t.TempDir(), "mail.log")
		os.WriteFile(path, []byte(c.text), 0o644)
		evs, _ := parseFile(t, path, &Options{Year: 2025})
		n := 0
		for _, ev := range evs {
			if ev.Str("event.action") != "message" {
				continue
			}
			n++
			if got := ev.Str("event.timezone"); got != c.zone {
				t.Errorf("%s: event.timezone %q, want %q", c.name, got, c.zone)
			}
		}
		if n != 1 {
			t.Errorf("%s: %d messages, want 1", c.name, n)
		}
	}
}
