package parsers

import (
	"fmt"
	"testing"
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
