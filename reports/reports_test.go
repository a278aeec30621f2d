package reports

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/exfiltrace/exfiltrace/index"
	"github.com/exfiltrace/exfiltrace/internal/corpus"
	"github.com/exfiltrace/exfiltrace/parsers"
	"github.com/exfiltrace/exfiltrace/rules"
)

func analyze(t *testing.T, lang string, paths ...string) *Report {
	t.Helper()
	c, err := index.OpenCase(filepath.Join(t.TempDir(), "case"), true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := c.ImportConfig(paths); err != nil {
		t.Fatal(err)
	}
	if _, err := index.Ingest(c, paths, index.IngestOptions{Parse: parsers.Options{TZ: time.UTC}}); err != nil {
		t.Fatal(err)
	}
	cfg := rules.DefaultConfig()
	if p := filepath.Join(c.Dir, parsers.CaseConfigName); fileExists(p) {
		if cfg, err = rules.LoadConfig(p); err != nil {
			t.Fatal(err)
		}
	}
	rs, err := rules.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	res, err := Build(c, Options{Config: cfg, Rules: rs, Lang: lang})
	if err != nil {
		t.Fatal(err)
	}
	return res.Report
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

type truth struct {
	Account    string `json:"account"`
	SourceHost string `json:"source_host"`
	SourceIP   string `json:"source_ip"`
	Exfil      []struct {
		Channel, Destination, Domain, First, Last string
		Bytes                                     int64
		Sessions                                  int64
	} `json:"exfiltration"`
}

func validate(t *testing.T, r *Report) {
	t.Helper()
	var buf bytes.Buffer
	if err := Render(&buf, r, "json", ""); err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	sch, err := c.Compile(filepath.Join(corpus.Root(t), "reports", "schema", "findings.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(inst); err != nil {
		t.Errorf("report does not validate against the findings schema: %v", err)
	}
}

// TestIncidentVerdictAndLedger: the verdict and every ledger entry equal the
// samples' ground truth exactly.
func TestIncidentVerdictAndLedger(t *testing.T) {
	root := corpus.Root(t)
	r := analyze(t, "fr", filepath.Join(root, "samples", "incident"))
	validate(t, r)
	b, _ := os.ReadFile(filepath.Join(root, "samples", "incident.truth.json"))
	var tr truth
	json.Unmarshal(b, &tr)
	if r.Verdict.DataTaken != Confirmed || r.Verdict.Confidence < 0.9 {
		t.Errorf("verdict %+v", r.Verdict)
	}
	// The chain of custody lists every file, by path, whatever order the
	// parallel ingest finished them in.
	var paths []string
	for _, e := range r.Evidence {
		paths = append(paths, e.Path)
	}
	if len(paths) != 4 || !slices.IsSorted(paths) {
		t.Errorf("evidence %v: want the 4 sample files by path", paths)
	}
	var total int64
	for _, x := range tr.Exfil {
		total += x.Bytes
	}
	if r.Verdict.BytesOut != total {
		t.Errorf("bytes_out %d, want %d", r.Verdict.BytesOut, total)
	}
	if len(r.Exfiltration) != len(tr.Exfil) {
		t.Fatalf("ledger has %d entries, want %d: %+v", len(r.Exfiltration), len(tr.Exfil), r.Exfiltration)
	}
	for i, want := range tr.Exfil {
		got := r.Exfiltration[i]
		dest := got.Destination.IP
		if want.Channel == "email" {
			dest = got.Destination.Email
		}
		first, _ := time.Parse(time.RFC3339Nano, want.First)
		last, _ := time.Parse(time.RFC3339Nano, want.Last)
		if got.Channel != want.Channel || dest != want.Destination || got.Bytes != want.Bytes || got.Events != want.Sessions ||
			!got.FirstSeen.Equal(first) || !got.LastSeen.Equal(last) || got.SeenBeforeIncident {
			t.Errorf("ledger %d: %+v\nwant %+v", i, got, want)
		}
		if len(got.Users) != 1 || got.Users[0] != tr.Account {
			t.Errorf("ledger %d users %v, want [%s]", i, got.Users, tr.Account)
		}
		if want.Channel != "email" && (len(got.Sources) != 1 || got.Sources[0].IP != tr.SourceIP || got.Sources[0].Host != tr.SourceHost) {
			t.Errorf("ledger %d sources %+v, want %s (%s)", i, got.Sources, tr.SourceHost, tr.SourceIP)
		}
	}
	if r.Breach == nil || len(r.Breach.DataCategories) < 3 {
		t.Errorf("GDPR draft categories: %+v", r.Breach)
	}
	for _, format := range []string{"md", "html", "csv"} {
		var buf bytes.Buffer
		if err := Render(&buf, r, format, ""); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		if format != "csv" && !strings.Contains(buf.String(), "5413491657") {
			t.Errorf("%s report lacks the exact byte count", format)
		}
		if format == "csv" && !strings.HasPrefix(buf.String(), "message,datetime,timestamp_desc") {
			t.Errorf("csv header: %q", strings.SplitN(buf.String(), "\n", 2)[0])
		}
	}
}

// TestControlAndMissingFirewall: the same background without intrusion gives
// no_evidence and an empty ledger; without firewall logs the answer is
// insufficient_data and names them.
func TestControlAndMissingFirewall(t *testing.T) {
	root := corpus.Root(t)
	r := analyze(t, "en", filepath.Join(root, "samples", "control"))
	validate(t, r)
	if r.Verdict.DataTaken != NoEvidence || len(r.Exfiltration) != 0 {
		t.Errorf("control: %+v, ledger %+v", r.Verdict, r.Exfiltration)
	}
	// The reason counts the routine transfers it asks to confirm, and says
	// none was seen rather than "routine (0)".
	routine := "; no large transfer seen."
	if len(r.Routine) > 0 {
		routine = fmt.Sprintf("; the large transfers seen are routine (%d, listed for confirmation).", len(r.Routine))
	}
	if reasons := strings.Join(r.Verdict.Reasons, "\n"); !strings.Contains(reasons, "no unusual transfer (new destination, volume outside the learned routine, host far above its peers)"+routine) {
		t.Errorf("control: reasons %q, want the routine clause %q", reasons, routine)
	}
	dir := t.TempDir()
	for _, sub := range []string{"mail", "windows"} {
		os.MkdirAll(filepath.Join(dir, sub), 0o755)
		entries, _ := os.ReadDir(filepath.Join(root, "samples", "incident", sub))
		for _, e := range entries {
			b, _ := os.ReadFile(filepath.Join(root, "samples", "incident", sub, e.Name()))
			os.WriteFile(filepath.Join(dir, sub, e.Name()), b, 0o644)
		}
	}
	b, _ := os.ReadFile(filepath.Join(root, "samples", "incident", "exfiltrace.yaml"))
	os.WriteFile(filepath.Join(dir, "exfiltrace.yaml"), b, 0o644)
	r = analyze(t, "en", dir)
	validate(t, r)
	// The theft by mail is still measured; the missing firewall log qualifies it.
	if r.Verdict.DataTaken != Confirmed || r.Verdict.BytesOut != 54525952 || len(r.Verdict.Missing) != 1 ||
		!strings.Contains(strings.Join(r.Verdict.Reasons, " "), "No firewall log: what left over the network cannot be measured") {
		t.Errorf("without firewall logs: %+v", r.Verdict)
	}
	// Without the mail log either, nothing can be measured.
	os.RemoveAll(filepath.Join(dir, "mail"))
	r = analyze(t, "en", dir)
	validate(t, r)
	if r.Verdict.DataTaken != InsufficientData || !strings.Contains(strings.Join(r.Verdict.Reasons, " "), "firewall log") || len(r.Exfiltration) != 0 {
		t.Errorf("without firewall and mail logs: %+v", r.Verdict)
	}
}

// TestSamplesWithoutConfiguration: the samples give the same answer with
// their exfiltrace.yaml removed — the backup is learned as routine, the
// file server and the account are tied by the evidence.
func TestSamplesWithoutConfiguration(t *testing.T) {
	root := corpus.Root(t)
	for _, name := range []string{"incident", "control"} {
		dir := filepath.Join(t.TempDir(), name)
		for _, sub := range []string{"firewall", "mail", "windows"} {
			os.MkdirAll(filepath.Join(dir, sub), 0o755)
			entries, _ := os.ReadDir(filepath.Join(root, "samples", name, sub))
			for _, e := range entries {
				b, _ := os.ReadFile(filepath.Join(root, "samples", name, sub, e.Name()))
				os.WriteFile(filepath.Join(dir, sub, e.Name()), b, 0o644)
			}
		}
		with := analyze(t, "fr", filepath.Join(root, "samples", name))
		without := analyze(t, "fr", dir)
		validate(t, without)
		if with.Verdict.DataTaken != without.Verdict.DataTaken || with.Verdict.BytesOut != without.Verdict.BytesOut || len(with.Exfiltration) != len(without.Exfiltration) {
			t.Fatalf("%s: with configuration %s %d B, without %s %d B", name, with.Verdict.DataTaken, with.Verdict.BytesOut, without.Verdict.DataTaken, without.Verdict.BytesOut)
		}
		for i := range with.Exfiltration {
			a, b := with.Exfiltration[i], without.Exfiltration[i]
			if a.Bytes != b.Bytes || a.Destination != b.Destination || !equalSources(a.Sources, b.Sources) || strings.Join(a.Users, ",") != strings.Join(b.Users, ",") {
				t.Errorf("%s ledger %d differs without configuration:\n%+v\n%+v", name, i, a, b)
			}
		}
		// The backup the configuration marked known good is learned as routine.
		found := false
		for _, rt := range without.Routine {
			if rt.Destination.IP == "51.91.120.15" && strings.Contains(rt.Why, "récurrent") && rt.Days == 3 {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: the nightly backup is not a routine transfer: %+v", name, without.Routine)
		}
	}
}

func equalSources(a, b []Source) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestHTMLEscapesLogData feeds markup through a log field into the report.
func TestHTMLEscapesLogData(t *testing.T) {
	dir := t.TempDir()
	line := `date=2025-03-14 time=23:50:40 tz="+0100" logid="0000000013" type="traffic" subtype="forward" srcip=10.10.1.20 srcport=60100 dstip=31.216.145.9 dstport=443 proto=6 action="close" hostname="<script>alert(1)</script>.mega.nz" duration=100 sentbyte=2000000000 rcvdbyte=10`
	os.WriteFile(filepath.Join(dir, "fw.log"), []byte(line+"\n"), 0o644)
	r := analyze(t, "fr", dir)
	var buf bytes.Buffer
	if err := Render(&buf, r, "html", ""); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	if strings.Contains(html, "<script>alert(1)</script>") {
		t.Error("log-derived markup reached the HTML unescaped")
	}
	if !strings.Contains(html, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("the escaped destination is not in the report")
	}
	if strings.Contains(html, "http://") && strings.Contains(html, "<link") || strings.Contains(html, "<script src") {
		t.Error("the HTML page loads external assets")
	}
}

// TestUserTemplate: an analyst's own template directory, with sprig available.
func TestUserTemplate(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "report.md.tmpl"), []byte(`{{ .Verdict.DataTaken | upper }} {{ len .Exfiltration }} {{ .Case.ID | trunc 2 }}`), 0o644)
	r := &Report{Verdict: Verdict{DataTaken: Likely}, Case: CaseInfo{ID: "mairie-x"}, Lang: "fr"}
	var buf bytes.Buffer
	if err := Render(&buf, r, "md", dir); err != nil {
		t.Fatal(err)
	}
	if buf.String() != "LIKELY 0 ma" {
		t.Errorf("custom template output %q", buf.String())
	}
}

// TestSonicWallSessionsCountAsFirewallVolume: SonicWall Connection Closed
// lines are session volume: firewall coverage, the volume rule fires, and
// the ledger sums their sent bytes exactly (5 sessions, 1,250,000,010 B).
func TestSonicWallSessionsCountAsFirewallVolume(t *testing.T) {
	r := analyze(t, "en", filepath.Join("testdata", "sonicwall_exfil.log"))
	kinds := map[string]bool{}
	for _, c := range r.Coverage {
		kinds[c.Source] = true
	}
	if !kinds["firewall"] {
		t.Errorf("coverage kinds %v: want firewall", kinds)
	}
	var got int64
	for _, l := range r.Exfiltration {
		if l.Destination.IP == "31.216.145.5" {
			got += l.Bytes
		}
	}
	if got != 1250000010 {
		t.Errorf("ledger bytes to 31.216.145.5 = %d, want 1250000010 (sent of the five closed sessions)", got)
	}
}

// TestFrenchReportIsFrench: a French report carries no English rule title
// or sentence (the built-in rules have French titles), in any format.
func TestFrenchReportIsFrench(t *testing.T) {
	r := analyze(t, "fr", filepath.Join(corpus.Root(t), "samples", "incident"))
	rs, _ := rules.Builtin()
	var english []string
	for _, ru := range rs {
		english = append(english, ru.Title)
	}
	english = append(english, "sent to", "Intrusion from", "first contacted", "corroborated by", "account(s)", "VPN tunnel opened by",
		"remote desktop logon", "recurring, regular transfer", "Firewall logs", "The volumes are lower bounds", "Hosts", "Unparsed")
	for _, format := range []string{"md", "html"} {
		var buf bytes.Buffer
		if err := Render(&buf, r, format, ""); err != nil {
			t.Fatal(err)
		}
		for _, e := range english {
			if strings.Contains(buf.String(), e) {
				t.Errorf("%s report in French contains %q", format, e)
			}
		}
	}
}

// TestEvidenceWithoutEvents: the evidence table says why a file gave no
// events — an artefact that is not a log, an empty log — in the report's
// language, while the findings JSON keeps to its contract (a parser name
// or nothing in format, no other key).
func TestEvidenceWithoutEvents(t *testing.T) {
	dir := t.TempDir()
	line := `date=2025-03-14 time=23:50:40 tz="+0100" logid="0000000013" type="traffic" subtype="forward" srcip=10.10.1.20 srcport=60100 dstip=31.216.145.9 dstport=443 proto=6 action="close" duration=100 sentbyte=2000 rcvdbyte=10`
	os.WriteFile(filepath.Join(dir, "fw.log"), []byte(line+"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "maillog"), nil, 0o644)
	os.WriteFile(filepath.Join(dir, "SYSTEM"), append([]byte("regf"), make([]byte, 4092)...), 0o644)
	for lang, want := range map[string][]string{
		"en": {"| fortigate | 1 |", "| empty log | 0 |", "| not a log (left out) | 0 |"},
		"fr": {"| fortigate | 1 |", "| journal vide | 0 |", "| pas un journal (écarté) | 0 |"},
	} {
		r := analyze(t, lang, dir)
		var md, js bytes.Buffer
		if err := Render(&md, r, "md", ""); err != nil {
			t.Fatal(err)
		}
		for _, w := range want {
			if !strings.Contains(md.String(), w) {
				t.Errorf("%s: the evidence table lacks %q", lang, w)
			}
		}
		if err := Render(&js, r, "json", ""); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(js.String(), "status") || strings.Contains(js.String(), "not_a_log") {
			t.Errorf("%s: the findings JSON carries the table's note", lang)
		}
		validate(t, r)
	}
}

// TestMailDirectionTeachesOwnDomains: an Exchange Online extended report
// (a tenant with no mail server log) — the message its user sent out is
// the ledger's, exactly; the tenant's second domain, seen only as the
// recipient of Incoming mail, is learned from that direction and its
// mailboxes are not counted as outside recipients; own domains are those
// two.
func TestMailDirectionTeachesOwnDomains(t *testing.T) {
	dir := t.TempDir()
	report := "origin_timestamp_utc,sender_address,recipient_status,message_subject,total_bytes,message_id,network_message_id,original_client_ip,directionality\r\n" +
		`2025-03-14T22:43:10Z,j.martin@agglo-exemple.fr,"jmartin.perso@gmail.com##Receive, Send",Documents,20971520,<m1@eurprd.outlook.com>,n1,185.220.101.47,Originating` + "\r\n" +
		`2025-03-14T23:10:00Z,j.martin@agglo-exemple.fr,"jmartin.perso@gmail.com##Receive, Fail",Documents,20971521,<m2@eurprd.outlook.com>,n2,185.220.101.47,Originating` + "\r\n"
	for i := 0; i < 5; i++ {
		report += fmt.Sprintf(`2025-03-1%dT08:00:00Z,contact@fournisseur.com,"dgs@ccas-agglo.fr##Receive, Deliver",Offre,%d,<o%d@fournisseur.com>,o%d,203.0.113.9,Incoming`+"\r\n", i, 900000000+i, i, i)
	}
	if err := os.WriteFile(filepath.Join(dir, "MTDetail_Report.csv"), []byte(report), 0o644); err != nil {
		t.Fatal(err)
	}
	r := analyze(t, "en", dir)
	if strings.Join(r.OwnMailDomains, ",") != "agglo-exemple.fr,ccas-agglo.fr" {
		t.Errorf("own mail domains %v", r.OwnMailDomains)
	}
	var got int64
	for _, l := range r.Exfiltration {
		if l.Destination.Email != "jmartin.perso@gmail.com" {
			t.Errorf("ledger entry to %+v", l.Destination)
			continue
		}
		got += l.Bytes
	}
	if got != 20971520 {
		t.Errorf("bytes to jmartin.perso@gmail.com %d, want 20971520 (the failed delivery not counted)", got)
	}
	for _, rt := range r.Routine {
		if strings.Contains(fmt.Sprint(rt), "ccas-agglo.fr") {
			t.Errorf("an own mailbox listed as a routine transfer: %+v", rt)
		}
	}
}

// TestFortiMailHistoryLedger: a FortiMail gateway's history log alone (a
// record per message and recipient, syslog's CSV form). The messages it
// let out to an outside address are the ledger's, to the byte; those it
// rejected or quarantined are not; the municipality's domain is learned
// from the mail FortiMail says came in to it, and its mailboxes are no
// outside recipients.
func TestFortiMailHistoryLedger(t *testing.T) {
	p := filepath.Join(t.TempDir(), "fortimail.log")
	if err := os.WriteFile(p, []byte(fortiMailTheft("192.0.2.25", 15728640)), 0o644); err != nil {
		t.Fatal(err)
	}
	r := analyze(t, "en", p)
	checkFortiMailTheft(t, r, 15728640)
	for _, c := range r.Coverage {
		if c.Source != "mail" {
			t.Errorf("FortiMail's records counted as %q, not mail", c.Source)
		}
	}
}

// TestFortiMailGatewaySessionsAreTheMail: the same gateway inside the
// network, behind a FortiGate that logs its SMTP sessions to the
// recipient's server: those sessions carried the messages the mail ledger
// counts, and are not a second, network, entry of the same bytes.
func TestFortiMailGatewaySessionsAreTheMail(t *testing.T) {
	dir := t.TempDir()
	var fw strings.Builder
	session := func(day, clock string, id int, dst string, sent int) {
		fmt.Fprintf(&fw, `date=2025-03-%s time=%s devname="FGT-MAIRIE" devid="FG100FTK00000001" tz="+0000" logid="0000000013" type="traffic" subtype="forward" level="notice" srcip=10.1.2.25 srcport=%d srcintf="dmz" dstip=%s dstport=25 dstintf="wan1" sessionid=%d proto=6 action="close" policyid=7 service="SMTP" duration=20 sentbyte=%d rcvdbyte=4200`+"\n",
			day, clock, 40000+id, dst, id, sent)
	}
	for d := 1; d <= 7; d++ {
		for i := 0; i < 4; i++ {
			session(fmt.Sprintf("%02d", d), fmt.Sprintf("10:%02d:25", 10+i), d*10+i, "198.51.100.20", 31000+i)
		}
	}
	// Messages ten times larger than the other test's, so that their
	// sessions alone would be a network entry.
	const size = 157286400
	for k := range 3 {
		session("08", fmt.Sprintf("02:1%d:20", k), 900+k, "142.250.27.27", size+k+(size+k)/30)
	}
	for name, text := range map[string]string{"fortimail.log": fortiMailTheft("10.1.2.25", size), "fortigate.log": fw.String()} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	checkFortiMailTheft(t, analyze(t, "en", dir), size)
}

// fortiMailTheft is a week of a town's mail through a FortiMail at gateway
// (its history log, syslog's CSV form), then three night messages of size
// bytes (and one and two more) to a personal address, a fourth rejected, a
// fifth quarantined.
func fortiMailTheft(gateway string, size int) string {
	rec := func(day, clock, sess, clientIP, from, to, direction, disposition string, size int) string {
		return fmt.Sprintf(`<190>date=2025-03-%s,time=%s,device_id=FEVM020000000001,log_id=0200007961,type=statistics,pri=information,session_id="%s",client_name="",client_ip="%s",dst_ip="%s",from="%s",to="%s",polid="0:1:1:SYSTEM",domain="mairie-exemple.fr",mailer="mta",resolved="OK",direction="%s",virus="",disposition="%s",classifier="Not Spam",message_length="%d",subject="x"`,
			day, clock, sess, clientIP, gateway, from, to, direction, disposition, size) + "\n"
	}
	var log strings.Builder
	for d := 1; d <= 7; d++ {
		for i := 0; i < 4; i++ {
			log.WriteString(rec(fmt.Sprintf("%02d", d), fmt.Sprintf("09:%02d:02.120", 10+i), fmt.Sprintf("in%d%d", d, i), "203.0.113.9",
				"contact@fournisseur.example.com", fmt.Sprintf("agent%d@mairie-exemple.fr", i), "in", "Accept", 900000000+i))
			log.WriteString(rec(fmt.Sprintf("%02d", d), fmt.Sprintf("10:%02d:05.500", 10+i), fmt.Sprintf("out%d%d", d, i), "10.1.2.10",
				fmt.Sprintf("agent%d@mairie-exemple.fr", i), "service@prefecture-exemple.gouv.fr", "out", "Accept;Insert Header", 30000+i))
		}
	}
	for k := range 3 {
		log.WriteString(rec("08", fmt.Sprintf("02:1%d:00.000", k), fmt.Sprintf("exf%d", k), "10.1.2.10", "j.martin@mairie-exemple.fr", "depot.archive@proton.me", "out", "Accept", size+k))
	}
	log.WriteString(rec("08", "02:20:00.000", "exf8", "10.1.2.10", "j.martin@mairie-exemple.fr", "depot.archive@proton.me", "out", "Reject", 9999999))
	log.WriteString(rec("08", "02:21:00.000", "exf9", "10.1.2.10", "j.martin@mairie-exemple.fr", "depot.archive@proton.me", "out", "System Quarantine;Notification;Defer Disposition", 8888888))
	return log.String()
}

// checkFortiMailTheft: the messages FortiMail let out to the personal
// address are the ledger's one entry, to the byte; the domain is learned.
func checkFortiMailTheft(t *testing.T, r *Report, size int64) {
	t.Helper()
	if strings.Join(r.OwnMailDomains, ",") != "mairie-exemple.fr" {
		t.Errorf("own mail domains %v", r.OwnMailDomains)
	}
	if len(r.Exfiltration) != 1 {
		t.Fatalf("ledger %+v", r.Exfiltration)
	}
	e := r.Exfiltration[0]
	if e.Channel != "email" || e.Destination.Email != "depot.archive@proton.me" || e.Bytes != 3*size+3 || e.Events != 3 ||
		e.FirstSeen.Format(time.RFC3339) != "2025-03-08T02:10:00Z" || e.LastSeen.Format(time.RFC3339) != "2025-03-08T02:12:00Z" {
		t.Errorf("ledger entry %s %+v %d B %d messages %s→%s", e.Channel, e.Destination, e.Bytes, e.Events, e.FirstSeen, e.LastSeen)
	}
	if r.Verdict.DataTaken != Likely || r.Verdict.BytesOut != 3*size+3 {
		t.Errorf("verdict %s, %d B out", r.Verdict.DataTaken, r.Verdict.BytesOut)
	}
}

// TestUndatedTimesRendered: a case whose events name no time (bare device
// messages) says so in its human reports, never "0001-01-01".
func TestUndatedTimesRendered(t *testing.T) {
	for lang, want := range map[string]string{"en": "undated → undated", "fr": "sans date → sans date"} {
		r := &Report{Lang: lang, Case: CaseInfo{ID: "c", Events: 3}}
		for _, format := range []string{"md", "html"} {
			var buf bytes.Buffer
			if err := Render(&buf, r, format, ""); err != nil {
				t.Fatalf("%s %s: %v", lang, format, err)
			}
			if strings.Contains(buf.String(), "0001-01-01") || format == "html" && !strings.Contains(buf.String(), want) {
				t.Errorf("%s %s: zero times shown as dates, or %q missing", lang, format, want)
			}
		}
	}
}

// TestCiscoESALedger: a week of a town's mail through a Cisco Secure Email
// Gateway (its own mail_logs files), then three night messages of size
// bytes (and one and two more) submitted by j.martin to a personal
// address, the second rewritten by a filter under a new MID: the ledger's
// one entry, to the byte, each message once.
func TestCiscoESALedger(t *testing.T) {
	const size = 15728640
	var log strings.Builder
	mid, icid := 1000, 500
	msg := func(day, clock, client, user, from, to, table string, n int, rewrite bool) {
		at := fmt.Sprintf("Sat Mar %s %s 2025", day, clock)
		if day[0] == '0' {
			at = fmt.Sprintf("Sat Mar  %s %s 2025", day[1:], clock)
		}
		icid++
		mid++
		fmt.Fprintf(&log, "%s Info: New SMTP ICID %d interface Main (192.0.2.25) address %s reverse dns host unknown verified no\n", at, icid, client)
		if user != "" {
			fmt.Fprintf(&log, "%s Info: SMTP Auth: (ICID %d) succeeded for user: %s using AUTH mechanism: LOGIN with profile: ldap\n", at, icid, user)
		}
		fmt.Fprintf(&log, "%s Info: Start MID %d ICID %d\n%s Info: MID %d ICID %d From: <%s>\n%s Info: MID %d ICID %d RID 0 To: <%s>\n",
			at, mid, icid, at, mid, icid, from, at, mid, icid, to)
		fmt.Fprintf(&log, "%s Info: MID %d ready %d bytes from <%s>\n%s Info: MID %d matched all recipients for per-recipient policy DEFAULT in the %s table\n",
			at, mid, n, from, at, mid, table)
		if rewrite {
			fmt.Fprintf(&log, "%s Info: MID %d rewritten to MID %d by add-footer filter 'Disclaimer'\n%s Info: Message finished MID %d done\n", at, mid, mid+1, at, mid)
			mid++
		}
		fmt.Fprintf(&log, "%s Info: Delivery start DCID %d MID %d to RID [0]\n%s Info: Message done DCID %d MID %d to RID [0]\n%s Info: Message finished MID %d done\n%s Info: ICID %d close\n",
			at, mid, mid, at, mid, mid, at, mid, at, icid)
	}
	for d := 1; d <= 7; d++ {
		day := fmt.Sprintf("%02d", d)
		for i := 0; i < 4; i++ {
			msg(day, fmt.Sprintf("09:%02d:02", 10+i), "203.0.113.9", "", "contact@fournisseur.example.com", fmt.Sprintf("agent%d@mairie-exemple.fr", i), "inbound", 900000+i, false)
			msg(day, fmt.Sprintf("10:%02d:05", 10+i), "10.1.2.10", fmt.Sprintf("agent%d", i), fmt.Sprintf("agent%d@mairie-exemple.fr", i), "service@prefecture-exemple.gouv.fr", "outbound", 30000+i, false)
		}
	}
	for k := range 3 {
		msg("08", fmt.Sprintf("02:1%d:00", k), "10.1.2.10", "j.martin", "j.martin@mairie-exemple.fr", "depot.archive@proton.me", "outbound", size+k, k == 1)
	}
	p := filepath.Join(t.TempDir(), "mail.current")
	if err := os.WriteFile(p, []byte(log.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	r := analyze(t, "en", p)
	checkFortiMailTheft(t, r, size)
	for _, c := range r.Coverage {
		if c.Source != "mail" {
			t.Errorf("the gateway's lines counted as %q, not mail", c.Source)
		}
	}
}

// TestCiscoESAConsolidatedLedger: the same week through a Cisco gateway
// that writes consolidated event logs (one CEF record per message): the
// three delivered night messages are the ledger's entry, to the byte; the
// two it quarantined are not.
func TestCiscoESAConsolidatedLedger(t *testing.T) {
	const size = 15728640
	var log strings.Builder
	mid := 5000
	rec := func(day, clock, client, from, to string, direction int, act string, n int) {
		mid++
		d, _ := strconv.Atoi(day)
		when := fmt.Sprintf("Sat Mar %2d %s 2025", d, clock)
		fmt.Fprintf(&log, "<14>Mar %s %s consolidated_event: CEF:0|Cisco|C300V Email Security Virtual Appliance|15.0.1-030|ESA_CONSOLIDATED_LOG_EVENT|Consolidated Log Event|5|deviceExternalId=4235746AE34E6DD44EB8-CE101C994AA5 ESAMID=%d ESAICID=%d endTime=%s dvc=192.0.2.25 startTime=%s deviceDirection=%d suser=%s act=%s ESAMsgSize=%d duser=%s sourceHostName=unknown sourceAddress=%s msg='x'\n",
			day, clock, mid, mid+70000, when, when, direction, from, act, n, to, client)
	}
	for d := 1; d <= 7; d++ {
		day := fmt.Sprintf("%02d", d)
		for i := 0; i < 4; i++ {
			rec(day, fmt.Sprintf("09:%02d:02", 10+i), "203.0.113.9", "contact@fournisseur.example.com", fmt.Sprintf("agent%d@mairie-exemple.fr", i), 0, "DELIVERED", 900000+i)
			rec(day, fmt.Sprintf("10:%02d:05", 10+i), "10.1.2.10", fmt.Sprintf("agent%d@mairie-exemple.fr", i), "service@prefecture-exemple.gouv.fr", 1, "DELIVERED", 30000+i)
		}
	}
	for k := range 3 {
		rec("08", fmt.Sprintf("02:1%d:00", k), "10.1.2.10", "j.martin@mairie-exemple.fr", "depot.archive@proton.me", 1, "DELIVERED", size+k)
	}
	rec("08", "02:20:00", "10.1.2.10", "j.martin@mairie-exemple.fr", "depot.archive@proton.me", 1, "QUARANTINED", 9999999)
	rec("08", "02:21:00", "10.1.2.10", "j.martin@mairie-exemple.fr", "depot.archive@proton.me", 1, "DQ", 8888888)
	p := filepath.Join(t.TempDir(), "consolidated_event.log")
	if err := os.WriteFile(p, []byte(log.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	checkFortiMailTheft(t, analyze(t, "en", p), size)
}
