package parsers

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// Syslog reads any syslog line no specific format claims (RFC 3164, RFC
// 5424, ISO stamps): time, host, program, pid and message, so that nothing
// with a header is lost. OpenSSH logins and sudo commands — how intruders
// reach and use Linux servers — are also mapped to ECS.
type Syslog struct{}

func (Syslog) Name() string { return "syslog" }
func (Syslog) Description() string {
	return "any other syslog (RFC 3164 / 5424 / ISO, or a collector's tab-separated file such as Kiwi Syslog Server's): time, host, program, message; sshd logins, sudo commands and Windows events sent as text (NXLog to_syslog_bsd) mapped"
}

func (Syslog) Detect(head []byte) bool { return mostLines(head, Syslog{}.matchLine) }

func (Syslog) matchLine(l string) bool {
	c := syslogClock{Year: 2000, Loc: time.UTC}
	h, err := c.parse(l)
	return err == nil && h.Host != "" && (h.Program != "" || h.Msg != "")
}

func (Syslog) NewDecoder(o *Options) LineDecoder {
	return &syslogDecoder{clock: o.clock()}
}

type syslogDecoder struct{ clock syslogClock }

func (d *syslogDecoder) Flush(Emit) {}

var (
	sshAccepted = regexp.MustCompile(`^Accepted (\S+) for (\S+) from (\S+) port (\d+)`)
	sshFailed   = regexp.MustCompile(`^Failed (\S+) for (?:invalid user )?(\S+) from (\S+) port (\d+)`)
	sshInvalid  = regexp.MustCompile(`^Invalid user (\S*) from (\S+)(?: port (\d+))?`)
	sudoCmd     = regexp.MustCompile(`^\s*(\S+) : (?:.*?; )?(?:TTY=(\S+) ; )?PWD=(.*?) ; USER=(\S+) ; (?:.*?; )?COMMAND=(.*)$`)
)

func (d *syslogDecoder) Line(no int64, line []byte, emit Emit) error {
	s := string(line)
	h, err := d.clock.parse(s)
	if err != nil {
		return fmt.Errorf("syslog: %v", err)
	}
	if ev, ok := windowsFromSyslog(h); ok {
		ev.Fields[event.FieldOriginal] = s
		ev.Fields[event.FieldLine] = no
		emit(ev, linePos(no))
		return nil
	}
	ev := event.New()
	ev.Timestamp = h.Time
	ev.Fields[event.FieldDataset] = "syslog"
	ev.Fields[event.FieldOriginal] = s
	ev.Fields[event.FieldLine] = no
	ev.Set("host.name", h.Host)
	ev.Set("process.name", h.Program)
	if pid, err := strconv.ParseInt(h.PID, 10, 64); err == nil {
		ev.SetInt("process.pid", pid)
	}
	if h.Priority >= 0 {
		ev.SetInt("log.syslog.priority", int64(h.Priority))
		ev.SetInt("log.syslog.facility.code", int64(h.Priority/8))
		ev.SetInt("log.syslog.severity.code", int64(h.Priority%8))
	}
	ev.Set("message", h.Msg)
	switch prog := h.Program; {
	case strings.HasPrefix(prog, "sshd"):
		if m := sshAccepted.FindStringSubmatch(h.Msg); m != nil {
			sshLogin(ev, "success", m[1], m[2], m[3], m[4])
		} else if m := sshFailed.FindStringSubmatch(h.Msg); m != nil {
			sshLogin(ev, "failure", m[1], m[2], m[3], m[4])
		} else if m := sshInvalid.FindStringSubmatch(h.Msg); m != nil {
			sshLogin(ev, "failure", "", m[1], m[2], m[3])
		}
	case prog == "sudo":
		if m := sudoCmd.FindStringSubmatch(h.Msg); m != nil {
			ev.Fields["event.category"] = []string{"process"}
			ev.Fields["event.type"] = []string{"start"}
			ev.Set("event.action", "sudo")
			ev.Set("user.name", m[1])
			ev.Set("user.effective.name", m[4])
			ev.Set("process.working_directory", m[3])
			ev.Set("process.command_line", m[5])
		}
	}
	emit(ev, linePos(no))
	return nil
}

func sshLogin(ev *event.Event, outcome, method, user, ip, port string) {
	ev.Fields["event.category"] = []string{"authentication"}
	ev.Fields["event.type"] = []string{"start"}
	if outcome == "failure" {
		ev.Fields["event.type"] = []string{"start", "denied"}
	}
	ev.Set("event.action", "ssh_login")
	ev.Set("event.outcome", outcome)
	ev.Set("sshd.method", method)
	ev.Set("user.name", user)
	setIP(ev, "source.ip", ip)
	setPort(ev, "source.port", port)
}
