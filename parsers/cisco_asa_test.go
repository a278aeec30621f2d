package parsers

import (
	"strings"
	"testing"
)

// TestASAUserNeeds: what each user expression needs before it is tried
// holds for every message it matches — else a user would be skipped, or
// found by a later, looser expression.
func TestASAUserNeeds(t *testing.T) {
	matches := [][]string{
		{"user 'jdupont' logged", "USERNAME \"a b\"", "Username 'x'", "uſer 'x'"},
		{"for user jdupont", "FOR USER \"x\"", "For User 'y'", "for uſer z"},
		{"user = jdupont", "USERNAME: x", "User=y", "uſername=z"},
		{"Group GP-VPN User jdupont IP 1.2.3.4 ", "Group <g> User x IP "},
		{"10.1.1.1/443(LOCAL\\jdupont)", "5(A\\B\\c)"},
		{"Uname: jdupont", "Uname:x"},
		{"user <jdupont>", "USERNAME<x>", "uſer <z>"},
		{"User jdupont executed", "User x logged", "User y authenticated"},
	}
	if len(matches) != len(asaUsers) {
		t.Fatalf("%d example sets for %d expressions", len(matches), len(asaUsers))
	}
	for i, ms := range matches {
		for _, m := range ms {
			u := asaUsers[i]
			if !u.re.MatchString(m) {
				t.Fatalf("expression %d does not match its example %q", i, m)
			}
			if !u.need(m, strings.ToLower(m)) {
				t.Errorf("expression %d matches %q but its need says it cannot", i, m)
			}
		}
	}
	// A Teardown without a user is tried by none of them.
	msg := "Teardown TCP connection 1 for outside:1.2.3.4/443 to inside:10.0.0.1/5000 duration 0:00:01 bytes 10 TCP FINs"
	for i, u := range asaUsers {
		if u.need(msg, strings.ToLower(msg)) {
			t.Errorf("expression %d tried on a Teardown without a user", i)
		}
	}
}
