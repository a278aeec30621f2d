package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMailboxDownloadFromOutside: Dovecot's own log, no other evidence. An
// account whose mailbox (881 MB in two sessions) went to an outside
// address is a finding naming it, from its first logout; the same volume
// read inside the network and a day's mail read from home are not. The
// download is not in the byte ledger (a finding for the analyst), the
// verdict still says the firewall's log is missing, and its reasons name
// the account and the address.
func TestMailboxDownloadFromOutside(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "evidence")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	log := `2025-03-14 22:58:03 imap-login: Info: Login: user=<j.martin>, method=PLAIN, rip=203.0.113.7, lip=10.20.0.25, mpid=4711, TLS, session=<Xk2bL0sBAAB>
2025-03-14 23:10:02 imap(j.martin)<4711><Xk2bL0sBAAB>: Info: Logged out in=1204 out=481234567 deleted=0 expunged=0 trashed=0
2025-03-14 23:12:40 imap-login: Info: Login: user=<j.martin>, method=PLAIN, rip=203.0.113.7, lip=10.20.0.25, mpid=4790, TLS, session=<Yk3cM1tCAAC>
2025-03-14 23:30:55 imap(j.martin)<4790><Yk3cM1tCAAC>: Info: Logged out in=980 out=400000000 deleted=0 expunged=0 trashed=0
2025-03-14 08:11:40 imap-login: Info: Login: user=<c.bernard>, method=PLAIN, rip=10.20.1.57, lip=10.20.0.25, mpid=3001, TLS, session=<Ak5eO3vEAAE>
2025-03-14 08:44:55 imap(c.bernard)<3001><Ak5eO3vEAAE>: Info: Logged out in=1204 out=881234567
2025-03-14 19:15:10 pop3-login: Info: Login: user=<m.petit>, method=PLAIN, rip=198.51.100.23, lip=10.20.0.25, mpid=3100, TLS, session=<Zk4dN2uDAAD>
2025-03-14 19:16:20 pop3(m.petit)<3100><Zk4dN2uDAAD>: Info: Disconnected: Logged out top=0/0, retr=3/20000000, del=0/851, size=360937863
`
	if err := os.WriteFile(filepath.Join(dir, "dovecot.log"), []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "analyze", dir, "--tz", "Europe/Paris", "--quiet", "--format", "json", "--lang", "en")
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Verdict struct {
			DataTaken string   `json:"data_taken"`
			Reasons   []string `json:"reasons"`
		} `json:"verdict"`
		Exfiltration []json.RawMessage `json:"exfiltration"`
		Findings     []struct {
			RuleID    string    `json:"rule_id"`
			Users     []string  `json:"users"`
			FirstSeen time.Time `json:"first_seen"`
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range r.Findings {
		if f.RuleID != "7d6e4782-0c18-4108-b19b-339a3053776e" {
			continue
		}
		got = append(got, f.Users...)
		if want := time.Date(2025, 3, 14, 22, 10, 2, 0, time.UTC); !f.FirstSeen.Equal(want) {
			t.Errorf("first seen %s, want %s (the first logout, 23:10:02 in Paris)", f.FirstSeen, want)
		}
	}
	if len(got) != 1 || got[0] != "j.martin" {
		t.Errorf("mailbox downloads from outside name %v, want [j.martin]", got)
	}
	if r.Verdict.DataTaken != "insufficient_data" || len(r.Exfiltration) != 0 {
		t.Errorf("verdict %s with %d ledger entries, want insufficient_data and none", r.Verdict.DataTaken, len(r.Exfiltration))
	}
	said := 0
	for _, why := range r.Verdict.Reasons {
		if strings.HasPrefix(why, "Mailbox(es) downloaded from outside the network: j.martin from 203.0.113.7 (finding F") {
			said++
		}
	}
	if said != 1 {
		t.Errorf("the verdict's reasons name the downloaded mailbox %d times, want once: %q", said, r.Verdict.Reasons)
	}
}
