package parsers

import (
	"fmt"
	"testing"

	"github.com/exfiltrace/exfiltrace/event"
)

// TestLoginPlaces: a session's lines find their login's addresses by host
// and session id, else by process id; a login is remembered for at least
// a generation of later logins, then forgotten (memory bounded).
func TestLoginPlaces(t *testing.T) {
	var l loginPlaces
	l.add("mail01", "Xk2b", "4711", "203.0.113.7", "10.20.0.25")
	l.add("mail02", "Xk2b", "4711", "198.51.100.9", "10.20.0.26") // another server, the same ids
	l.add("mail01", "", "4999", "192.0.2.44", "10.20.0.25")
	for _, c := range []struct {
		host, sess, pid string
		ip              string
	}{
		{"mail01", "Xk2b", "", "203.0.113.7"},
		{"mail02", "Xk2b", "", "198.51.100.9"},
		{"mail01", "", "4711", "203.0.113.7"},
		{"mail01", "nope", "4999", "192.0.2.44"}, // an unknown session: the process id
		{"mail01", "", "4999", "192.0.2.44"},
		{"mail03", "Xk2b", "4711", ""},
		{"mail01", "", "", ""},
	} {
		ip, _, ok := l.find(c.host, c.sess, c.pid)
		if ip != c.ip || ok != (c.ip != "") {
			t.Errorf("find(%s, %q, %q) = %q %v, want %q", c.host, c.sess, c.pid, ip, ok, c.ip)
		}
	}
	for i := range loginPlacesGeneration {
		l.add("mail01", fmt.Sprint("s", i), "", "192.0.2.1", "")
	}
	if ip, _, _ := l.find("mail01", "Xk2b", ""); ip != "203.0.113.7" {
		t.Errorf("a login a generation ago: %q", ip)
	}
	for i := range loginPlacesGeneration {
		l.add("mail01", fmt.Sprint("t", i), "", "192.0.2.1", "")
	}
	if _, _, ok := l.find("mail01", "Xk2b", ""); ok {
		t.Errorf("a login two generations ago is still held")
	}
	if n := len(l.now) + len(l.before); n > 2*loginPlacesGeneration {
		t.Errorf("%d logins held", n)
	}
}

// TestExchangeMailboxFetches: Exchange's POP3/IMAP4 protocol log rows
// whose response carried mail (RETR, TOP, FETCH, UID FETCH) are a
// mailbox's download; others (LIST, a login) are not.
func TestExchangeMailboxFetches(t *testing.T) {
	head := "#Software: Microsoft Exchange Server\n#Version: 15.0.0.0\n#Log-type: POP3 Protocol Logs\n#Fields: dateTime,sessionId,seqNumber,sIP,cIP,user,duration,rqsize,rpsize,command,parameters,context\n"
	rows := []struct {
		row  string
		want bool
	}{
		{"2025-03-14T22:10:02.514Z,0000000000000005,4,10.20.0.30:995,203.0.113.7:55576,j.martin,193,10,48812345,retr,1,", true},
		{"2025-03-14T22:10:03.514Z,0000000000000005,5,10.20.0.30:995,203.0.113.7:55576,j.martin,20,10,20480,top,2 10,", true},
		{"2025-03-14T22:10:04.514Z,0000000000000006,1,10.20.0.30:993,203.0.113.7:55577,j.martin,40,30,8812345,uid,FETCH 1:* (BODY.PEEK[]),", true},
		{"2025-03-14T22:10:05.514Z,0000000000000006,2,10.20.0.30:993,203.0.113.7:55577,j.martin,40,30,4096,uid,SEARCH ALL,", false},
		{"2025-03-14T22:10:06.514Z,0000000000000005,6,10.20.0.30:995,203.0.113.7:55576,j.martin,5,6,812,list,,", false},
	}
	for _, r := range rows {
		st, all := parseText(t, "POP3_20250314-1.LOG", head+r.row+"\n")
		var evs []*event.Event
		for _, ev := range all {
			if ev.Str(event.FieldKind) == "event" {
				evs = append(evs, ev)
			}
		}
		if st.Format != "exchange-protocol" || len(evs) != 1 {
			t.Fatalf("%s: read as %s, %d events (%v)", r.row, st.Format, len(evs), st.RawReasons)
		}
		got := false
		if tags, ok := evs[0].Fields["tags"].([]string); ok {
			got = len(tags) == 1 && tags[0] == "mailbox_download_bytes"
		}
		if got != r.want || evs[0].Str("source.ip") != "203.0.113.7" {
			t.Errorf("%s: mailbox download %v (source %s), want %v", r.row, got, evs[0].Str("source.ip"), r.want)
		}
	}
}
