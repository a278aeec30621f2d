package scenario

import (
	"fmt"
	"time"
)

var sites = []Site{
	{"160.92.168.33", "www.service-public.fr"}, {"185.24.184.10", "www.impots.gouv.fr"}, {"193.17.18.20", "www.legifrance.gouv.fr"},
	{"104.18.32.47", "www.lemonde.fr"}, {"151.101.122.217", "www.ouest-france.fr"}, {"185.86.137.25", "www.marches-publics.gouv.fr"},
	{"52.97.146.162", "outlook.office365.com"}, {"52.113.194.132", "teams.microsoft.com"}, {"20.190.151.70", "login.microsoftonline.com"},
	{"142.250.179.110", "www.google.com"}, {"13.107.42.14", "www.bing.com"}, {"91.68.245.12", "www.caf.fr"},
	{"194.2.41.18", "www.ameli.fr"}, {"212.95.67.120", "chorus-pro.gouv.fr"}, {"80.247.225.27", "www.collectivites-locales.gouv.fr"},
	{"13.32.145.56", "static.data.gouv.fr"}, {"23.58.207.11", "www.microsoft.com"}, {"2.21.74.103", "ctldl.windowsupdate.com"},
}

const partnerMX, partnerMXIP = "mx.partenaire-exemple.fr", "93.184.216.34"

// localDay returns the UTC instant of a local clock time on day d.
func (w *world) localDay(d int, hour, minute int) time.Time {
	s := w.o.Start
	return time.Date(s.Year(), s.Month(), s.Day()+d, hour, minute, 0, 0, w.loc).UTC()
}

// inWorkHours returns a random instant between 08:00 and 17:30 local on day d.
func (w *world) inWorkHours(d int) time.Time {
	return w.localDay(d, 8, 0).Add(time.Duration(w.r.Int64N(int64(9*time.Hour + 30*time.Minute)))).Truncate(time.Second)
}

// background is what every day of the authority looks like: browsing,
// DNS, scans dropped at the edge, staff on the VPN, share access, logons
// and Kerberos tickets, mail, and the cloud service colleagues use.
func (w *world) background() {
	org := w.org
	for d := 0; d < w.o.Days; d++ {
		weekend := w.localDay(d, 12, 0).In(w.loc).Weekday() == time.Saturday || w.localDay(d, 12, 0).In(w.loc).Weekday() == time.Sunday
		people := 1.0
		if weekend {
			people = 0.1
		}
		for i := 0; i < int(150*people); i++ {
			p := org.Staff[w.r.IntN(len(org.Staff))]
			s := sites[w.r.IntN(len(sites))]
			w.traffic(session{src: p.WS.IP, sport: 49152 + w.r.IntN(16000), dst: s.IP, dport: 443, proto: 6, service: "HTTPS", host: s.Host,
				start: w.inWorkHours(d), dur: time.Duration(1+w.r.IntN(90)) * time.Second, sent: int64(800 + w.r.IntN(60000)), rcvd: int64(4000 + w.r.IntN(3_000_000)), policy: 12})
		}
		for i := 0; i < 40; i++ {
			t := w.localDay(d, 0, 0).Add(time.Duration(w.r.Int64N(int64(24 * time.Hour))))
			w.traffic(session{src: org.DC.IP, sport: 50000 + w.r.IntN(15000), dst: []string{"9.9.9.9", "149.112.112.112"}[w.r.IntN(2)], dport: 53, proto: 17, service: "DNS",
				start: t, dur: 0, sent: int64(60 + w.r.IntN(40)), rcvd: int64(80 + w.r.IntN(300)), policy: 4, action: "accept", noInterim: true})
		}
		for i := 0; i < 25; i++ {
			t := w.localDay(d, 0, 0).Add(time.Duration(w.r.Int64N(int64(24 * time.Hour))))
			w.fgDeny(t, fmt.Sprintf("%d.%d.%d.%d", 45+w.r.IntN(150), w.r.IntN(255), w.r.IntN(255), 1+w.r.IntN(253)), []int{22, 23, 445, 3389, 8080, 10443}[w.r.IntN(6)])
		}
		// A few failed VPN logins from the internet every day: noise, not an attack.
		for i := 0; i < w.r.IntN(4); i++ {
			t := w.localDay(d, 0, 0).Add(time.Duration(w.r.Int64N(int64(24 * time.Hour))))
			w.fgVPN(t, "ssl-login-fail", []string{"admin", "test", "vpn", "user"}[w.r.IntN(4)], fmt.Sprintf("%d.%d.%d.%d", 80+w.r.IntN(100), w.r.IntN(255), w.r.IntN(255), 1+w.r.IntN(253)), "")
		}
		if !weekend {
			// Staff working from home over the VPN.
			for k := 0; k < 3; k++ {
				p := org.Staff[(d*3+k)%len(org.Staff)]
				t := w.localDay(d, 7, 30).Add(time.Duration(w.r.IntN(90)) * time.Minute)
				home := fmt.Sprintf("90.%d.%d.%d", 1+w.r.IntN(120), w.r.IntN(255), 1+w.r.IntN(250))
				tip := fmt.Sprintf("%s%d", org.VPNPool, 10+w.r.IntN(90))
				w.fgVPN(t, "tunnel-up", p.User, home, tip)
				w.shareAccess(t.Add(3*time.Minute), p.User, tip, org.Shares[3], fmt.Sprintf(`Notes\note-%04d.docx`, w.r.IntN(5000)))
				w.fgVPN(t.Add(time.Duration(3+w.r.IntN(5))*time.Hour), "tunnel-down", p.User, home, tip)
			}
			w.staffDay(d)
		}
		// Servers renew their Kerberos tickets from their own addresses.
		for _, h := range []Host{org.FS, org.BackupSrv, org.Mail, org.Exchange} {
			for k := 0; k < 2; k++ {
				t := w.localDay(d, 0, 0).Add(time.Duration(w.r.Int64N(int64(24 * time.Hour)))).Truncate(time.Second)
				if h == org.Mail {
					continue // the mail relay is not in the domain
				}
				w.kerberos(t, 4769, short(h.Name)+"$", h.IP, "krbtgt")
			}
		}
		w.cloudUse(d, weekend)
	}
}

// staffDay: logons, tickets, share access and mail of a working day.
func (w *world) staffDay(d int) {
	org := w.org
	for _, p := range org.Staff {
		if w.r.IntN(10) == 0 {
			continue // on leave
		}
		t := w.localDay(d, 7, 45).Add(time.Duration(w.r.IntN(80)) * time.Minute).Truncate(time.Second)
		w.kerberos(t, 4768, p.User, p.WS.IP, "krbtgt")
		for k := 0; k < 1+w.r.IntN(3); k++ {
			tt := w.inWorkHours(d)
			lid := fmt.Sprintf("0x%x", 0x300000+w.r.IntN(0xfffff))
			w.logon(org.FS, tt, p.User, p.WS.IP, 3, lid, p.WS.Name)
			sh := org.Shares[3+w.r.IntN(2)]
			if w.r.IntN(6) == 0 {
				sh = org.Shares[w.r.IntN(3)]
			}
			for f := 0; f < 1+w.r.IntN(4); f++ {
				w.shareAccess(tt.Add(time.Duration(2+f*20)*time.Second), p.User, p.WS.IP, sh, fmt.Sprintf(`%s\doc-%04d.docx`, sh.Dirs[w.r.IntN(len(sh.Dirs))], w.r.IntN(5000)))
			}
		}
		if w.r.IntN(3) == 0 {
			to := []string{org.Partners[w.r.IntN(len(org.Partners))]}
			if w.r.IntN(4) == 0 {
				to = append(to, org.Staff[w.r.IntN(len(org.Staff))].User+"@"+org.MailDomain)
			}
			at := w.inWorkHours(d)
			size := int64(3000 + w.r.IntN(900_000))
			mt := w.message(at, p.WS.Name, p.WS.IP, p.User, p.User+"@"+org.MailDomain, to, size, partnerMX, partnerMXIP)
			w.relaySession(mt, size, Site{partnerMXIP, partnerMX})
		}
	}
	for i := 0; i < 8; i++ {
		p := org.Staff[w.r.IntN(len(org.Staff))]
		w.message(w.inWorkHours(d), "mail.partenaire-exemple.fr", "93.184.216.40", "", org.Partners[w.r.IntN(len(org.Partners))], []string{p.User + "@" + org.MailDomain}, int64(2000+w.r.IntN(400_000)), "", "")
	}
	// The administrator's remote desktop on the file server, logged off after.
	if w.r.IntN(2) == 0 {
		t := w.inWorkHours(d)
		lid := fmt.Sprintf("0x%x", 0x500000+w.r.IntN(0xfffff))
		w.traffic(session{src: org.Admin.WS.IP, sport: 50000 + w.r.IntN(10000), dst: org.FS.IP, dport: 3389, proto: 6, service: "RDP",
			start: t, dur: time.Duration(20+w.r.IntN(60)) * time.Minute, sent: int64(2_000_000 + w.r.IntN(9_000_000)), rcvd: int64(20_000_000 + w.r.IntN(90_000_000)), policy: 30})
		w.logon(org.FS, t, org.Admin.User, org.Admin.WS.IP, 10, lid, org.Admin.WS.Name)
		w.logoff(org.FS, t.Add(time.Duration(15+w.r.IntN(5))*time.Minute), org.Admin.User, lid, 10)
	}
}

// cloudUse: colleagues syncing documents with the cloud service every day.
func (w *world) cloudUse(d int, weekend bool) {
	if w.o.CloudUsers == 0 || weekend {
		return
	}
	for k := 0; k < w.o.CloudUsers && k < len(w.org.Staff); k++ {
		p := w.org.Staff[(k*7+3)%len(w.org.Staff)]
		if w.o.Variant == InsiderCloud && p.User == w.org.Staff[w.o.Victim].User && d == w.insiderDay() {
			continue // that afternoon the insider's own sync is not running beside the upload
		}
		for s := 0; s < 1+w.r.IntN(3); s++ {
			c := cloudService[w.r.IntN(len(cloudService))]
			w.traffic(session{src: p.WS.IP, sport: 49152 + w.r.IntN(16000), dst: c.IP, dport: 443, proto: 6, service: "HTTPS", host: c.Host,
				start: w.inWorkHours(d), dur: time.Duration(10+w.r.IntN(600)) * time.Second, sent: int64(1_000_000 + w.r.IntN(25_000_000)), rcvd: int64(200_000 + w.r.IntN(5_000_000)), policy: 12})
		}
	}
}

// backups runs each schedule from its first night to the end of the logs.
func (w *world) backups() {
	for bi, b := range w.o.Backups {
		var total int64
		d0 := b.Offset
		if b.EveryDays > 1 && w.localDay(d0, b.Hour, 0).Before(w.o.FirewallFrom) {
			d0++ // the first run the firewall log can show is in its first day
		}
		for d := d0; d < w.o.Days; d += b.EveryDays {
			start := w.localDay(d, b.Hour, 0)
			if start.After(w.localDay(w.o.Days, 0, 0)) {
				break
			}
			vol := int64(b.GB * 1e9 * (0.9 + 0.2*w.r.Float64()))
			per := vol / int64(b.Streams)
			for s := 0; s < b.Streams; s++ {
				dur := time.Duration(3600+w.r.IntN(5400)) * time.Second
				sent := per + int64(w.r.IntN(1000))
				w.traffic(session{src: b.From.IP, sport: 51000 + s + 10*bi, dst: b.Provider.IP, dport: 443, proto: 6, service: "HTTPS", host: b.Provider.Host,
					start: start.Add(time.Duration(w.r.IntN(120)) * time.Second), dur: dur, sent: sent, rcvd: sent / 180, policy: 21})
				total += sent
			}
			// The backup agent on the file server, each run.
			w.process(w.org.FS, start.Add(-5*time.Minute), "svc-backup", "0x3e7", `C:\Program Files\Veeam\Endpoint Backup\Veeam.EndPoint.Manager.exe`,
				`"C:\Program Files\Veeam\Endpoint Backup\Veeam.EndPoint.Manager.exe" /backup /job:nightly`, `C:\Windows\System32\services.exe`)
		}
		w.truth.Routine = append(w.truth.Routine, Routine{Source: b.From.IP, Destination: b.Provider.IP, Bytes: total,
			Schedule: fmt.Sprintf("every %d day(s) at %02d:00 local", b.EveryDays, b.Hour)})
	}
}
