package reports

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/exfiltrace/exfiltrace/internal/corpus"
)

// TestHTMLRendersInChromium opens the HTML report of the sample incident in
// headless Chromium, saves a PNG and checks the verdict is in the rendered DOM.
func TestHTMLRendersInChromium(t *testing.T) {
	bin := corpus.Tool(t, "chromium", "chromium", "browser rendering check")
	r := analyze(t, "fr", filepath.Join(corpus.Root(t), "samples", "incident"))
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	var buf bytes.Buffer
	if err := Render(&buf, r, "html", ""); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(page, buf.Bytes(), 0o644)
	flags := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--user-data-dir=" + filepath.Join(dir, "profile")}
	png := filepath.Join(dir, "report.png")
	if out, err := exec.Command(bin, append(flags, "--window-size=1280,1600", "--screenshot="+png, "file://"+page)...).CombinedOutput(); err != nil {
		t.Fatalf("chromium screenshot: %v\n%s", err, out)
	}
	if st, err := os.Stat(png); err != nil || st.Size() < 10000 {
		t.Fatalf("no screenshot: %v", err)
	}
	dom, err := exec.Command(bin, append(flags, "--dump-dom", "file://"+page)...).Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(dom), "CONFIRMÉ — des données ont été volées") || !strings.Contains(string(dom), `data-verdict="confirmed"`) {
		t.Error("the verdict is not in the rendered DOM")
	}
}
