package parsers

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// TestProxySGMainWithoutDirectives: a ProxySG sending its default "main"
// format over syslog (RFC 5424) writes no #Fields:; each request is read by
// main's documented field list once its values have main's shape. The
// relay's header time (local, +01:00) is not the request's: date and time
// are GMT. A request with values beyond main's 24 is read for those 24 and
// said in a warning; a line of another shape is kept raw with the reason.
func TestProxySGMainWithoutDirectives(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	evs, st := parseFile(t, "testdata/proxysg_main_syslog.log", &Options{TZ: paris})
	if st.Format != "w3c-proxy" || st.Parsed != 5 || st.Raw != 1 || st.Lost != 0 {
		t.Fatalf("stats %+v", st)
	}
	if len(st.Warnings) != 2 || !strings.Contains(st.Warnings[0], `built-in "main" access log format (24 fields)`) ||
		st.Warnings[1] != `1 request with values beyond the fields of ProxySG's "main" format: those values are kept in event.original only` {
		t.Errorf("warnings %q", st.Warnings)
	}
	if len(evs) != 6 {
		t.Fatalf("%d events", len(evs))
	}
	want(t, "page", evs[0], "2025-03-14T21:58:02Z", map[string]any{
		"observer.vendor": "Symantec", "observer.product": "ProxySG", "observer.type": "proxy", "observer.ip": "10.20.0.5",
		"source.ip": "10.20.1.15", "user.name": "jdupont", "user.domain": "AGGLO", "w3c_proxy.auth_group": `AGGLO\Utilisateurs du domaine`,
		"url.original": "https://www.service-public.fr/particuliers/vosdroits?lang=fr", "destination.domain": "www.service-public.fr",
		"destination.ip": "160.92.168.33", "destination.port": int64(443), "http.request.method": "GET", "http.response.status_code": int64(200),
		"http.response.mime_type": "text/html", "user_agent.original": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
		"w3c_proxy.filter_result": "OBSERVED", "w3c_proxy.categories": "Government/Legal", "w3c_proxy.action": "TCP_NC_MISS",
		"destination.bytes": int64(48211), "source.bytes": int64(512), "event.duration": int64(120 * time.Millisecond),
		"event.outcome": "success", "evidence.line": int64(1), "event.dataset": "w3c_proxy.access",
	})
	want(t, "upload", evs[1], "2025-03-14T22:50:40Z", map[string]any{
		"source.bytes": int64(228392011), "destination.bytes": int64(1836), "http.request.method": "POST",
		"destination.domain": "gfs270n102.userstorage.mega.co.nz", "destination.ip": "31.216.145.5", "user_agent.original": "rclone/v1.62.2",
		"event.start": "2025-03-14T22:35:26Z", "user.name": "jdupont", "network.direction": "outbound",
	})
	want(t, "denied", evs[2], "2025-03-14T22:51:03Z", map[string]any{
		"event.outcome": "failure", "event.type": []string{"denied"}, "http.response.status_code": int64(403),
		"url.original": "http://transfer.sh/clients.zip", "destination.port": int64(80), "user.name": nil, "source.bytes": int64(1048576),
	})
	want(t, "tunnel", evs[3], "2025-03-14T22:52:00Z", map[string]any{
		"http.request.method": "CONNECT", "destination.ip": "185.199.108.133", "destination.port": int64(443),
		"source.bytes": int64(5242880), "http.response.status_code": int64(0), "event.outcome": "success", "user.name": "mmartin",
	})
	want(t, "extra values", evs[4], "2025-03-14T22:53:00Z", map[string]any{
		"observer.ip": "10.20.0.5", "destination.ip": nil, "source.bytes": int64(300), "w3c_proxy.action": "TCP_HIT",
	})
	if got := evs[5].Str(event.FieldError); !strings.Contains(got, `do not fit ProxySG's "main" format`) {
		t.Errorf("a line of another shape: %q", got)
	}
}

// TestProxySGWithoutDirectivesSameRequests: a ProxySG log in
// bcreportermain_v1 (SGOS 6's form), plain and relayed by syslog, read
// once with its directives and once with every directive line removed,
// gives the same requests field for field — but for what only #Remark:
// says (the appliance's name and serial number) and the line numbers.
func TestProxySGWithoutDirectivesSameRequests(t *testing.T) {
	for _, path := range []string{"testdata/proxysg_elff.log", "testdata/proxysg_syslog.log"} {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var kept []string
		for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
			if _, directive := w3cDirective(l); !directive {
				kept = append(kept, l)
			}
		}
		bare := filepath.Join(t.TempDir(), "bare.log")
		if err := os.WriteFile(bare, []byte(strings.Join(kept, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		with, _ := parseFile(t, path, &Options{TZ: time.UTC})
		without, st := parseFile(t, bare, &Options{TZ: time.UTC})
		if st.Format != "w3c-proxy" || st.Parsed != 4 || st.Raw != 2 {
			t.Fatalf("%s: stats %+v", path, st)
		}
		if len(st.Warnings) != 1 || !strings.Contains(st.Warnings[0], `"bcreportermain_v1" access log format (27 fields)`) {
			t.Errorf("%s: warnings %q", path, st.Warnings)
		}
		a, z := requests(with), requests(without)
		if len(a) != 6 || len(z) != 6 {
			t.Fatalf("%s: %d vs %d requests", path, len(a), len(z))
		}
		skip := map[string]bool{"event.id": true, "evidence.sha256": true, "log.file.path": true, event.FieldLine: true,
			"observer.name": true, "observer.serial_number": true}
		for i := range 4 {
			if !a[i].Timestamp.Equal(z[i].Timestamp) {
				t.Errorf("%s %d: time %s vs %s", path, i, a[i].Timestamp, z[i].Timestamp)
			}
			for k, v := range a[i].Fields {
				if !skip[k] && !equalValue(v, z[i].Fields[k]) {
					t.Errorf("%s %d: %s = %v without directives, %v with", path, i, k, z[i].Fields[k], v)
				}
			}
			for k := range z[i].Fields {
				if _, ok := a[i].Fields[k]; !ok && !skip[k] {
					t.Errorf("%s %d: %s only without directives", path, i, k)
				}
			}
		}
		for i := 4; i < 6; i++ {
			if z[i].Str(event.FieldError) == "" {
				t.Errorf("%s %d: kept raw without a reason", path, i)
			}
		}
	}
}

// TestProxySGFormatShapes: which built-in format a request's values fit.
// Each format's documented lines fit it alone; lines that differ where the
// shape is checked (a name where the status is, a word where an address is,
// too few values, another vendor's lines) fit none.
func TestProxySGFormatShapes(t *testing.T) {
	main := "2025-03-14 22:50:40 914000 10.20.1.15 200 TCP_NC_MISS 1836 228392011 POST https mega.nz 443 /ul - u - - - - - OBSERVED - - 10.20.0.5"
	bcr36 := "2025-03-14 22:50:40 914000 10.20.1.15 u g mega.nz 31.216.145.5 NZ 0 - OBSERVED cat - 200 TCP_NC_MISS POST - https mega.nz 443 /ul - - ua 10.20.0.5 1836 228392011 - MEGA Upload none low uuid - -"
	bcr27 := "2025-03-14 22:50:40 914000 10.20.1.15 u g - OBSERVED cat - 200 TCP_NC_MISS POST - https mega.nz 443 /ul - - ua 10.20.0.5 1836 228392011 - MEGA Upload"
	for _, tc := range []struct {
		name, line string
		format     string
		fields     int
	}{
		{"main", main, "main", 24},
		{"main with 3 more", main + " 1.2.3.4 x y", "main", 24},
		{"bcreportermain_v1", bcr36, "bcreportermain_v1", 36},
		{"bcreportermain_v1 with 6 more", bcr36 + " a b c d e f", "bcreportermain_v1", 29},
		{"bcreportermain_v1 of SGOS 6", bcr27, "bcreportermain_v1", 27},
		{"main, a name for the status", strings.Replace(main, " 200 ", " jdupont ", 1), "", 0},
		{"main, a word for the client", strings.Replace(main, "10.20.1.15", "pc-15", 1), "", 0},
		{"main, lowercase action", strings.Replace(main, "TCP_NC_MISS", "tcp_nc_miss", 1), "", 0},
		{"main, filter word elsewhere", strings.Replace(main, "OBSERVED", "ALLOWED", 1), "", 0},
		{"main cut short", main[:strings.LastIndex(main, " ")], "", 0},
		{"status 999", strings.Replace(main, " 200 ", " 999 ", 1), "", 0},
		{"IIS", "2025-03-14 22:50:40 10.0.0.5 POST /owa/ - 443 u 10.20.1.15 Mozilla - 200 0 0 1234 5678 15", "", 0},
	} {
		vals, err := splitELFF(tc.line, nil)
		if err != nil {
			t.Fatal(err)
		}
		f := sgFormatOf(vals)
		switch {
		case tc.format == "" && f != nil:
			t.Errorf("%s: fits %s", tc.name, f.name)
		case tc.format != "" && (f == nil || f.name != tc.format || f.width(len(vals)) != tc.fields):
			t.Errorf("%s: %+v, want %s with %d fields", tc.name, f, tc.format, tc.fields)
		}
	}
	if !(W3CProxy{}).Detect([]byte("<134>Mar 14 23:00:06 sg1 "+main+"\n")) || (IIS{}).Detect([]byte(main+"\n")) {
		t.Error("main without directives: detection")
	}
}
