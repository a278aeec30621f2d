package main

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"time"
)

// genMix writes the firewall and mail parts of issue 10's mixed case: N
// FortiGate lines of which about one in twenty is an interim record of a
// long session (action="accept" with sentdelta, repeating the session's
// running totals), and M Postfix messages (six lines each), over the same
// month. The Windows part comes from evtxgen.
func genMix(args []string) error {
	if len(args) != 4 {
		return fmt.Errorf("mix FORTIGATE_LINES FORTIGATE_FILE POSTFIX_MESSAGES POSTFIX_FILE")
	}
	var n, m int
	fmt.Sscan(args[0], &n)
	fmt.Sscan(args[2], &m)
	if err := writeGen(args[1], func(w *bufio.Writer) { fortiMix(w, n) }); err != nil {
		return err
	}
	return writeGen(args[3], func(w *bufio.Writer) { postfixMix(w, m) })
}

func writeGen(path string, fill func(*bufio.Writer)) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fill(w)
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func fortiMix(w *bufio.Writer, n int) {
	r := rand.New(rand.NewPCG(11, 11))
	t := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	step := time.Duration(int64(30*24*time.Hour) / int64(max(n, 1)))
	zone := time.FixedZone("+0100", 3600)
	for i := 0; i < n; i++ {
		t = t.Add(time.Duration(r.Int64N(int64(2*step) + 1)))
		lt := t.In(zone)
		src := fmt.Sprintf("10.10.%d.%d", r.IntN(30), 2+r.IntN(250))
		dst := fmt.Sprintf("%d.%d.%d.%d", 20+r.IntN(200), r.IntN(256), r.IntN(256), 1+r.IntN(254))
		sent, rcvd := 800+r.IntN(60000), 4000+r.IntN(3000000)
		action, extra := "close", ""
		if r.IntN(20) == 0 {
			action = "accept"
			extra = fmt.Sprintf(` sentdelta=%d rcvddelta=%d`, sent/2, rcvd/2)
		}
		fmt.Fprintf(w, `<189>date=%s time=%s devname="FGT-MAIRIE" devid="FG100FTK20012345" eventtime=%d tz="+0100" logid="0000000013" type="traffic" subtype="forward" level="notice" vd="root" srcip=%s srcport=%d srcintf="port1" srcintfrole="lan" dstip=%s dstport=443 dstintf="wan1" dstintfrole="wan" sessionid=%d proto=6 action="%s" policyid=12 policytype="policy" policyname="LAN-vers-Internet" service="HTTPS" trandisp="snat" transip=203.0.113.10 transport=%d hostname="site%d.example.fr" duration=%d sentbyte=%d rcvdbyte=%d sentpkt=%d rcvdpkt=%d%s`+"\n",
			lt.Format("2006-01-02"), lt.Format("15:04:05"), t.UnixNano(), src, 49152+r.IntN(16000), dst, 1000000+i, action,
			20000+r.IntN(40000), r.IntN(500), 1+r.IntN(300), sent, rcvd, 1+r.IntN(100), 1+r.IntN(2000), extra)
	}
}

func postfixMix(w *bufio.Writer, m int) {
	r := rand.New(rand.NewPCG(13, 13))
	t := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	step := time.Duration(int64(30*24*time.Hour) / int64(max(m, 1)))
	zone := time.FixedZone("+0100", 3600)
	line := func(at time.Time, prog string, pid int, msg string) {
		fmt.Fprintf(w, "%s mail01 postfix/%s[%d]: %s\n", at.In(zone).Format("2006-01-02T15:04:05.000000-07:00"), prog, pid, msg)
	}
	users := []string{"j.martin", "s.robert", "a.dubois", "compta", "mairie", "rh", "urbanisme", "etat-civil"}
	for i := 0; i < m; i++ {
		t = t.Add(time.Duration(r.Int64N(int64(2*step) + 1)))
		qid := fmt.Sprintf("%010X", uint64(i)*2654435761%(1<<40))
		pid := 20000 + r.IntN(40000)
		peer := fmt.Sprintf("mx%d.partenaire%d.fr[%d.%d.%d.%d]", r.IntN(3), r.IntN(500), 80+r.IntN(100), r.IntN(256), r.IntN(256), 1+r.IntN(254))
		user := users[r.IntN(len(users))]
		line(t, "smtpd", pid, "connect from "+peer)
		line(t.Add(100*time.Millisecond), "smtpd", pid, qid+": client="+peer)
		line(t.Add(160*time.Millisecond), "cleanup", pid+3, fmt.Sprintf("%s: message-id=<%d.%d@partenaire.fr>", qid, t.Unix(), i))
		line(t.Add(280*time.Millisecond), "qmgr", 811, fmt.Sprintf("%s: from=<contact%d@partenaire%d.fr>, size=%d, nrcpt=1 (queue active)", qid, r.IntN(50), r.IntN(500), 2000+r.IntN(2000000)))
		line(t.Add(980*time.Millisecond), "smtp", pid+7, fmt.Sprintf("%s: to=<%s@agglo-exemple.fr>, relay=exch01.agglo.local[10.10.1.26]:25, delay=0.7, delays=0.12/0.01/0.2/0.4, dsn=2.0.0, status=sent (250 2.0.0 OK)", qid, user))
		line(t.Add(1120*time.Millisecond), "qmgr", 811, qid+": removed")
	}
}
