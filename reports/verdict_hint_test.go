package reports

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/exfiltrace/exfiltrace/parsers"
	"github.com/exfiltrace/exfiltrace/samples/scenario"
)

// TestToolHostRoutineHint: a slow theft through a SonicWall that writes
// its local time (UTC−5) without a zone, read with none given: the
// nightly uploads look like a job that began before the intrusion and are
// judged routine, the transfer tool's runs find no volume. The verdict
// stays "possible", and says that a transfer judged routine leaves from
// the tool's host, to where and how much, and that the firewall's times
// were read in an assumed zone; read in its zone, the theft is confirmed.
func TestToolHostRoutineHint(t *testing.T) {
	inc := scenario.Generate("slow-theft", 12)
	if err := inc.AsFirewall("sonicwall"); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "evidence")
	if err := inc.Write(dir, dir+".truth.json"); err != nil {
		t.Fatal(err)
	}
	ch := inc.Truth.Exfil[0]
	// No zone given, as with analyze and no --tz.
	wrong, _ := analyzeDir(t, dir, parsers.Options{Year: inc.Truth.Year}, "en")
	if wrong.Verdict.DataTaken != Possible {
		// The case this test stands on (a tool with no volume, its upload
		// judged routine) no longer arises from this seed: a change to the
		// generator or the judgement moved it; find the case again.
		t.Fatalf("read with no zone the verdict is %s, want possible", wrong.Verdict.DataTaken)
	}
	want := "A transfer judged routine leaves from " + ch.SourceHost + ": 3.9 GB to " + ch.Destination
	found := false
	for _, r := range wrong.Verdict.Reasons {
		found = found || strings.HasPrefix(r, want) && strings.Contains(r, "read in an assumed zone")
	}
	if !found {
		t.Errorf("reasons %q, want one starting %q that names the assumed zone", wrong.Verdict.Reasons, want)
	}
	right, _ := analyzeDir(t, dir, parsers.Options{TZ: inc.Truth.Location(), Year: inc.Truth.Year}, "en")
	if right.Verdict.DataTaken != Confirmed {
		t.Errorf("read in its zone: %s, want confirmed", right.Verdict.DataTaken)
	}
}
