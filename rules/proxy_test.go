package rules

import (
	"path/filepath"
	"testing"

	"github.com/exfiltrace/exfiltrace/internal/corpus"
)

// proxyRequest is a request as the proxy readers store it.
func proxyRequest(dataset string, extra map[string]any) map[string]any {
	f := map[string]any{"event.dataset": dataset, "source.ip": "10.20.1.15", "destination.ip": "31.216.145.5",
		"url.original": "https://gfs270n102.userstorage.mega.co.nz/ul/Xk2a9?c=1", "url.domain": "gfs270n102.userstorage.mega.co.nz",
		"url.path": "/ul/Xk2a9", "url.query": "c=1", "url.extension": "zip", "http.request.method": "POST",
		"http.response.status_code": int64(200), "user_agent.original": "rclone/v1.62.2", "http.request.bytes": int64(228392011)}
	for k, v := range extra {
		f[k] = v
	}
	return f
}

// TestSigmaProxyTaxonomy: Sigma's proxy rules (category: proxy, written
// with the taxonomy's c-uri, cs-host, c-useragent…) run on a proxy's
// requests, Squid's and W3C proxies' alike, and not on a firewall's
// session that happens to carry the same fields.
func TestSigmaProxyTaxonomy(t *testing.T) {
	for _, tc := range []struct {
		name, detection string
	}{
		{"c-useragent", "sel: {c-useragent|startswith: 'rclone/v'}\ncondition: sel"},
		{"cs-host", "sel: {cs-host|endswith: '.mega.co.nz'}\ncondition: sel"},
		{"r-dns", "sel: {r-dns: gfs270n102.userstorage.mega.co.nz}\ncondition: sel"},
		{"c-uri", "sel: {c-uri|contains: '/ul/'}\ncondition: sel"},
		{"c-uri-stem and query", "sel: {c-uri-stem: /ul/Xk2a9, c-uri-query: c=1}\ncondition: sel"},
		{"c-uri-extension", "sel: {c-uri-extension: zip}\ncondition: sel"},
		{"cs-method and sc-status", "sel: {cs-method: POST, sc-status: 200}\ncondition: sel"},
		{"cs-bytes", "sel: {cs-bytes|gt: 100000000}\ncondition: sel"},
		{"dst_ip and src_ip", "sel: {dst_ip|cidr: 31.216.145.0/24, src_ip|cidr: 10.20.0.0/16}\ncondition: sel"},
	} {
		rs, err := ParseRules([]byte("title: t\nlogsource: {category: proxy}\ndetection:\n  "+indent(tc.detection)+"\n"), "t.yml")
		if err != nil || len(rs) != 1 {
			t.Fatalf("%s: %v", tc.name, err)
		}
		for _, c := range []struct {
			dataset string
			want    bool
		}{{"w3c_proxy.access", true}, {"squid", true}, {"fortinet.firewall", false}} {
			eng := Compile(rs)
			if len(eng.Skipped) > 0 {
				t.Fatalf("%s: skipped %+v", tc.name, eng.Skipped)
			}
			eng.Process(ev(proxyRequest(c.dataset, nil)))
			if got := len(eng.Findings()) > 0; got != c.want {
				t.Errorf("%s on %s: matched %v", tc.name, c.dataset, got)
			}
		}
		eng := Compile(rs)
		eng.Process(ev(proxyRequest("w3c_proxy.access", map[string]any{"user_agent.original": "Mozilla/5.0", "url.domain": "www.service-public.fr",
			"url.original": "https://www.service-public.fr/", "url.path": "/", "url.query": nil, "url.extension": nil, "http.request.method": "GET",
			"http.request.bytes": int64(512), "destination.ip": "160.92.168.33", "source.ip": "192.168.1.1"})))
		if len(eng.Findings()) > 0 {
			t.Errorf("%s: matched an ordinary request", tc.name)
		}
	}
}

func indent(s string) string {
	out := []byte{}
	for i := 0; i < len(s); i++ {
		out = append(out, s[i])
		if s[i] == '\n' {
			out = append(out, "  "...)
		}
	}
	return string(out)
}

// TestSigmaHQProxyRules: every SigmaHQ proxy and webserver rule loads, and the one for
// rclone's user agent finds an upload through the proxy.
func TestSigmaHQProxyRules(t *testing.T) {
	dir := corpus.Dir(t, "sigma")
	all, _, err := LoadDir(filepath.Join(dir, "rules", "web", "proxy_generic"))
	if err != nil {
		t.Fatal(err)
	}
	eng := Compile(all)
	if len(all) < 25 || len(eng.Skipped) > 0 {
		t.Fatalf("%d proxy rules, skipped %+v", len(all), eng.Skipped)
	}
	eng.Process(ev(proxyRequest("w3c_proxy.access", nil)))
	found := map[string]bool{}
	for _, f := range eng.Findings() {
		found[f.RuleID] = true
	}
	if !found["2c03648b-e081-41a5-b9fb-7d854a915091"] {
		t.Errorf("rclone via proxy not found: %v", found)
	}
	web, _, err := LoadDir(filepath.Join(dir, "rules", "web", "webserver_generic"))
	if err != nil {
		t.Fatal(err)
	}
	if eng := Compile(web); len(web) < 10 || len(eng.Skipped) > 0 {
		t.Errorf("%d webserver rules, skipped %+v", len(web), eng.Skipped)
	}
}

// TestSigmaWebserverTaxonomy: Sigma's webserver rules (cs-uri-query,
// cs-uri-stem, cs-user-agent…) run on IIS's and CLF's requests, not on
// a proxy's.
func TestSigmaWebserverTaxonomy(t *testing.T) {
	rs, err := ParseRules([]byte(`title: t
logsource: {category: webserver}
detection:
  sel: {cs-method: POST, cs-uri-stem|endswith: /autodiscover.json, cs-uri-query|contains: 'powershell', cs-user-agent|startswith: python, cs-referer: 'https://x/', cs-uri|contains: '/autodiscover.json?'}
  condition: sel
`), "t.yml")
	if err != nil {
		t.Fatal(err)
	}
	request := func(dataset string) map[string]any {
		return map[string]any{"event.dataset": dataset, "http.request.method": "POST", "url.path": "/autodiscover/autodiscover.json",
			"url.query": "@evil.com/powershell", "url.original": "/autodiscover/autodiscover.json?@evil.com/powershell",
			"user_agent.original": "python-requests/2.31.0", "http.request.referrer": "https://x/"}
	}
	for _, c := range []struct {
		dataset string
		want    bool
	}{{"iis.access", true}, {"clf", true}, {"w3c_proxy.access", false}} {
		eng := Compile(rs)
		eng.Process(ev(request(c.dataset)))
		if got := len(eng.Findings()) > 0; got != c.want {
			t.Errorf("%s: matched %v", c.dataset, got)
		}
	}
}
