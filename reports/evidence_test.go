package reports

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/index"
	"github.com/exfiltrace/exfiltrace/internal/corpus"
	"github.com/exfiltrace/exfiltrace/parsers"
	"github.com/exfiltrace/exfiltrace/rules"
	"github.com/exfiltrace/exfiltrace/samples/scenario"
)

// TestBuildFromEvidenceAsStore: the report of evidence read straight from
// its files is the report of the same evidence ingested into a scratch
// case and streamed from its store, to the byte — for the bundled
// incident and for every storyline written by several firewall vendors,
// with a web proxy, in the incident's zone and in UTC.
func TestBuildFromEvidenceAsStore(t *testing.T) {
	rs, err := rules.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	o := Options{Rules: rs, Lang: "en"}
	type evidence struct {
		name string
		dir  string
		tz   *time.Location
		year int
	}
	sets := []evidence{{name: "samples", dir: filepath.Join(corpus.Root(t), "samples", "incident"), tz: time.UTC}}
	for i, v := range scenario.Variants {
		fw := []string{"fortigate", "stormshield", "panos", "huawei", "cisco-asa", "sonicwall"}[i%6]
		inc := scenario.Generate(v, uint64(40+i))
		if err := inc.AsFirewall(fw); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			if err := inc.AsProxy(scenario.ProxyModes[i/2%len(scenario.ProxyModes)]); err != nil {
				t.Fatal(err)
			}
		}
		dir := filepath.Join(t.TempDir(), fmt.Sprintf("%s-%s", v, fw))
		if err := inc.Write(dir, dir+".truth.json"); err != nil {
			t.Fatal(err)
		}
		sets = append(sets, evidence{string(v) + "/" + fw, dir, inc.Truth.Location(), inc.Truth.Year},
			evidence{string(v) + "/" + fw + " in UTC", dir, time.UTC, inc.Truth.Year})
	}
	// The samples beside an EVTX log that wrapped around: that file is
	// stored first, the others read straight.
	if evtxDir := filepath.Join(corpus.Root(t), "..", "shared", "corpus", "evtx", "omerbenamram-evtx"); dirExists(evtxDir) {
		orig, err := os.ReadFile(filepath.Join(evtxDir, "security.evtx"))
		if err != nil {
			t.Fatal(err)
		}
		const header, chunk = 4096, 65536
		wrapped := append(append(slices.Clone(orig[:header]), orig[header+chunk:]...), orig[header:header+chunk]...)
		dir := t.TempDir()
		if err := os.CopyFS(filepath.Join(dir, "incident"), os.DirFS(sets[0].dir)); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "incident", "windows", "DC-Security.evtx"), wrapped, 0o644); err != nil {
			t.Fatal(err)
		}
		sets = append(sets, evidence{name: "samples and a wrapped EVTX log", dir: dir, tz: time.UTC})
	} else {
		t.Logf("shared corpus absent (%s): the wrapped EVTX log's case is left out", evtxDir)
	}
	render := func(r *Result) string {
		r.Report.GeneratedAt = time.Time{}
		b, err := json.MarshalIndent(r.Report, "", " ")
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for _, e := range sets {
		t.Run(e.name, func(t *testing.T) {
			in := index.IngestOptions{Parse: parsers.Options{TZ: e.tz, Year: e.year}, Settings: index.Settings{TZ: e.tz.String()}, DeferIndex: true}
			stored, err := index.OpenCase(filepath.Join(t.TempDir(), "case"), true)
			if err != nil {
				t.Fatal(err)
			}
			defer stored.Close()
			in.Store = ScratchFields(o)
			if _, err := index.Ingest(stored, []string{e.dir}, in); err != nil {
				t.Fatal(err)
			}
			want, err := Build(stored, o)
			if err != nil {
				t.Fatal(err)
			}
			direct, err := index.OpenCase(filepath.Join(t.TempDir(), "case"), true)
			if err != nil {
				t.Fatal(err)
			}
			defer direct.Close()
			in.Store = nil
			got, _, err := BuildFromEvidence(direct, []string{e.dir}, in, o)
			if err != nil {
				t.Fatal(err)
			}
			if w, g := render(want), render(got); w != g {
				t.Errorf("the report read straight from the evidence differs from the store's:\n%s", firstDifference(w, g))
			}
		})
	}
}

func dirExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// firstDifference shows where two texts part, with some context.
func firstDifference(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	from := max(0, i-300)
	return fmt.Sprintf("store: …%s…\nstraight: …%s…", a[from:min(len(a), i+200)], b[from:min(len(b), i+200)])
}
