package main

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"time"
)

// genProxy writes N requests of a ProxySG access log (ELFF, the "main"
// field list) over a month: 2,000 workstations with their accounts,
// 300,000 sites named with their origin address, one request in a
// thousand a POST of 1–50 MB. It sizes the proxy's own flow ledgers, which
// the mixed case (firewall, mail, Windows) does not exercise.
func genProxy(args []string) error {
	if len(args) != 2 {
		return fmt.Errorf("proxy REQUESTS FILE")
	}
	var n int
	fmt.Sscan(args[0], &n)
	return writeGen(args[1], func(w *bufio.Writer) { proxyRequests(w, n) })
}

func proxyRequests(w *bufio.Writer, n int) {
	r := rand.New(rand.NewPCG(17, 17))
	t := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	step := time.Duration(int64(30*24*time.Hour) / int64(max(n, 1)))
	fmt.Fprintf(w, "#Software: SGOS 6.7.5.14\n#Version: 1.0\n#Date: %s\n", t.Format("2006-01-02 15:04:05"))
	fmt.Fprintln(w, "#Fields: date time time-taken c-ip sc-status s-action sc-bytes cs-bytes cs-method cs-uri-scheme cs-host cs-uri-port cs-uri-path cs-uri-query cs-username cs-auth-group s-supplier-name rs(Content-Type) cs(Referer) cs(User-Agent) sc-filter-result cs-categories x-virus-id s-ip")
	for i := 0; i < n; i++ {
		t = t.Add(time.Duration(r.Int64N(int64(2*step) + 1)))
		ws, site := r.IntN(2000), r.IntN(300000)
		method, sent := "GET", 300+r.IntN(4700)
		if r.IntN(1000) == 0 {
			method, sent = "POST", 1<<20+r.IntN(49<<20)
		}
		fmt.Fprintf(w, "%s %d 10.1.%d.%d 200 TCP_NC_MISS %d %d %s https site%d.example.com 443 /p - agent%d - 198.%d.%d.%d text/html - \"Mozilla/5.0\" OBSERVED \"Technology/Internet\" - 10.254.254.10\n",
			t.Format("2006-01-02 15:04:05"), 10+r.IntN(2000), ws/250, ws%250+1, 500+r.IntN(90000), sent, method, site, ws, 18+site%2, (site>>8)%256, site%256)
	}
}
