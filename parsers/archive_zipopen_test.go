package parsers

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

func postfixLine(i int) string {
	return fmt.Sprintf("2025-03-12T08:01:14+01:00 mx%d postfix/smtpd[%d]: connect from unknown[192.0.2.%d]\n", i, 1000+i, i%250+1)
}

// readMember opens one evidence path and returns its hash and its events'
// host names.
func readMember(t *testing.T, p string) (sha string, hosts []string) {
	t.Helper()
	in, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if _, err := Parse(in, &Options{TZ: time.UTC}, func(ev *event.Event) { hosts = append(hosts, ev.Str("host.name")) }); err != nil {
		t.Fatal(err)
	}
	return in.SHA256, hosts
}

// TestZipManyMembers: a collection of thousands of members is read once
// per member, concurrently, each member its own content; a directory of
// many zips does not keep them all open; a zip written again at the same
// path is read anew.
func TestZipManyMembers(t *testing.T) {
	t.Cleanup(ReleaseArchives)
	dir := t.TempDir()
	const n = 3000
	var members [][2]string
	for i := range n {
		members = append(members, [2]string{fmt.Sprintf("C/Windows/host%04d/maillog", i), postfixLine(i)})
	}
	big := filepath.Join(dir, "collection.zip")
	writeZip(t, big, members)
	paths, _, err := Expand([]string{big})
	if err != nil || len(paths) != n {
		t.Fatalf("Expand: %d members, %v; want %d", len(paths), err, n)
	}
	var wg sync.WaitGroup
	got := make([]string, n)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 4 {
				_, hosts := readMember(t, paths[i])
				if len(hosts) == 1 {
					got[i] = hosts[0]
				}
			}
		}()
	}
	wg.Wait()
	for i, p := range paths {
		var k int
		fmt.Sscanf(p[len(big+MemberSep+"C/Windows/host"):], "%04d", &k)
		if want := fmt.Sprintf("mx%d", k); got[i] != want {
			t.Fatalf("%s: host %q, want %q", p, got[i], want)
		}
	}

	// Twenty archives read one after the other: at most idleZips stay open.
	for a := range 20 {
		p := filepath.Join(dir, fmt.Sprintf("host%02d.zip", a))
		writeZip(t, p, [][2]string{{"maillog", postfixLine(a)}, {"maillog.1", postfixLine(100 + a)}})
		for m, want := range map[string]string{"maillog": fmt.Sprintf("mx%d", a), "maillog.1": fmt.Sprintf("mx%d", 100+a)} {
			if _, hosts := readMember(t, p+MemberSep+m); len(hosts) != 1 || hosts[0] != want {
				t.Fatalf("%s!/%s: hosts %v, want %s", p, m, hosts, want)
			}
		}
	}
	zipsOpen.Lock()
	open := len(zipsOpen.byPath)
	zipsOpen.Unlock()
	if open > idleZips {
		t.Fatalf("%d archives left open, want at most %d", open, idleZips)
	}

	// The same path written again (another size, a later time): its new
	// content, not the directory read before.
	p := filepath.Join(dir, "host19.zip") // still open, idle
	writeZip(t, p, [][2]string{{"maillog", postfixLine(4242) + postfixLine(4243)}})
	os.Chtimes(p, time.Now().Add(time.Hour), time.Now().Add(time.Hour))
	sha, hosts := readMember(t, p+MemberSep+"maillog")
	sum := sha256.Sum256([]byte(postfixLine(4242) + postfixLine(4243)))
	if sha != hex.EncodeToString(sum[:]) || len(hosts) != 2 || hosts[0] != "mx4242" {
		t.Fatalf("rewritten archive: sha %s, hosts %v", sha, hosts)
	}
	if _, err := Open(p + MemberSep + "maillog.1"); err == nil {
		t.Fatal("a member the rewritten archive no longer holds was opened")
	}
	ReleaseArchives()
	zipsOpen.Lock()
	defer zipsOpen.Unlock()
	if len(zipsOpen.byPath) != 0 || len(zipsOpen.idle) != 0 {
		t.Fatalf("after ReleaseArchives: %d open, %d idle", len(zipsOpen.byPath), len(zipsOpen.idle))
	}
}
