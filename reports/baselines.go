package reports

import (
	"fmt"
	"math"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/rules"
)

// Baselines: what is routine is learned from the case itself, because real
// cases arrive with no configuration and the people who bring them cannot
// say what their backups are before the tool has told them anything.
//
// Every outbound transfer is grouped by service (the registrable domain the
// firewall logged, else the address) and by internal source. A transfer is
//
//   - routine by configuration: its destination is in known_good_destinations;
//   - routine by recurrence: it comes back at a regular period (daily, weekly,
//     every other night…), with volumes within a factor of routineSpread of
//     its median, and it is there from the start of the firewall log (its
//     first expected occurrence is in the log), so it predates whatever
//     happened later. An occurrence several times its usual volume is a
//     departure and is judged on its own;
//   - routine by prevalence: a service that prevalentHosts or more internal
//     hosts used before is not new; one host sending far more to it than the
//     others and than itself did before is not routine (theft to a popular
//     cloud service);
//   - new: a service first contacted after the first baselineDay of the
//     firewall log, or after the incident window opened.
//
// A new service, a departure, or a host far above its peers becomes a ledger
// entry when it reaches LargeBytes, or any volume when an exfiltration
// finding names the destination. Every reason cites its numbers.
const (
	// baselineDay is the least history a destination needs before it can
	// be called new: on the first day of a log everything is first seen.
	baselineDay = 24 * time.Hour
	// routineSpread bounds how far a recurring transfer's volume may vary
	// and still be the same job (backups grow and shrink by a few times at
	// most between runs: full versus incremental).
	routineSpread = 4
	// prevalentHosts internal hosts using a service make it common: one
	// intruder rarely sends from three machines to one place before acting.
	prevalentHosts = 3
	// aboveFactor is how much more than its reference (peers' 95th
	// percentile, its own past) a host must send in a day to stand out.
	aboveFactor = 4
	// minHistoryDays of a service's history make its own past a reference
	// strong enough to call an excess over it theft without other evidence.
	minHistoryDays = 3
	// episodeJoin joins a pair's active hours into one occurrence of a job.
	episodeJoin = 3 // hours
)

type service struct {
	key       string
	pairs     []pairRef
	first     int64 // first contact by any internal host, unix ns
	knownGood bool
	named     []string // ids of exfiltration findings that name it
	cloud     bool     // named by a cloud-storage finding
}

type pairRef struct {
	k pairKey
	p *pairFlow
}

// candidate is a transfer judged not routine: part of a ledger entry.
type candidate struct {
	svc     *service
	pair    pairRef
	keep    func(flowBucket) bool // the buckets that are not routine
	kind    string
	why     string
	strong  bool // above its evidence-derived reference, not only above LargeBytes
	totals  flowTotals
	seenPre bool // the service was contacted before the anomaly (or the window)
}

type judge struct {
	o         Options
	lang      string
	fw        *Range
	fwLog     logLabel // the log fw is the period of
	window    *Range
	before    time.Time // end of the baseline
	knownGood []netip.Prefix
	// sourceActive says whether attacker or collection activity ties to a
	// source address over a period (its host, or the accounts behind it).
	sourceActive func(ip string, t1, t2 time.Time) bool

	firstContactMax int64
	firstContactTo  string
	// the largest first-contact volume of any other service, per service
	firstContact2    int64
	firstContact2For string
	// routine holds the recurring jobs found before judging, so that the
	// first-contact reference is not set by a backup's first night.
	routine map[pairKey]routinePattern
	// names: the exfiltration findings naming each destination (address or
	// lower-cased name), with their ids in the report.
	names map[string][]*rules.Finding
	ids   map[*rules.Finding]string
}

// services groups the flow ledger's pairs by service, in key order, each
// with its pairs in source then destination order.
func (j *judge) services(fl *flowLedger) (*serviceSet, error) {
	if len(fl.runs) > 0 {
		return servicesFromRuns(fl)
	}
	by := map[string]*service{}
	fl.each(func(k pairKey, p *pairFlow) {
		if !fl.excludeBuckets(k, p) {
			return
		}
		key := serviceKey(p.domain, k.dst)
		s := by[key]
		if s == nil {
			s = &service{key: key}
			by[key] = s
		}
		s.pairs = append(s.pairs, pairRef{k, p})
	})
	out := make([]*service, 0, len(by))
	for _, s := range by {
		slices.SortFunc(s.pairs, func(a, b pairRef) int { return a.k.compare(b.k) })
		out = append(out, s)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].key < out[b].key })
	return &serviceSet{mem: out, n: len(out)}, nil
}

// nameBy adds the exfiltration findings that name a pair's destination
// (address or name) to its service's; seen holds the service's so far.
func (j *judge) nameBy(s *service, pr pairRef, seen map[*rules.Finding]bool) {
	if len(j.names) == 0 {
		return
	}
	for _, name := range []string{addrText(pr.k.dst), strings.ToLower(pr.p.domain)} {
		if name == "" {
			continue
		}
		for _, f := range j.names[name] {
			if seen[f] {
				continue
			}
			seen[f] = true
			s.named = append(s.named, j.ids[f])
			if hasTag(f, "attack.t1567") {
				s.cloud = true
			}
		}
	}
}

// findRoutine detects the recurring jobs of every pair first, learns of
// each service when it was first contacted and whether it is known good,
// and sets the first-contact reference (firstcontact.go) in the same pass.
func (j *judge) findRoutine(svcs *serviceSet) error {
	j.routine = map[pairKey]routinePattern{}
	var found []pairKey // the service's, dropped if it is known good
	var fc firstContactDay
	return svcs.scan(func(s *service) {
		s.first, s.knownGood, found = math.MaxInt64, false, found[:0]
		fc.reset()
	}, func(s *service, pr pairRef) {
		s.first = min(s.first, pr.p.firstStart())
		for _, pf := range j.knownGood {
			if pf.Contains(pr.k.dst) {
				s.knownGood = true
			}
		}
		routine := false
		if len(pr.p.buckets) >= 2 {
			occ := pairOccurrences(pr.p)
			if rp, ok := j.detectRoutine(occ); ok && !j.startsWithIntrusion(pr.k.src, occ) {
				j.routine[pr.k] = rp
				found = append(found, pr.k)
				routine = true
			}
		}
		fc.add(pr.p, !routine)
	}, func(s *service) {
		// A known-good service is routine as a whole, not pair by pair.
		if s.knownGood {
			for _, k := range found {
				delete(j.routine, k)
			}
		}
		j.firstContact(s, fc.most[fc.day])
	})
}

// judgeAll sorts every pair into routine transfers and ledger candidates,
// service by service. Of a service's pairs, only those that carry enough
// to matter (or recur) are kept; the rest are summed into its history as
// they come, so a service of millions of pairs is judged in little memory.
func (j *judge) judgeAll(svcs *serviceSet) (routine []RoutineTransfer, cands []candidate, err error) {
	var g *serviceJudgement
	err = svcs.scan(func(s *service) {
		g = j.startService(s)
	}, func(s *service, pr pairRef) {
		g.add(pr)
	}, func(s *service) {
		r, c := g.finish()
		routine = append(routine, r...)
		cands = append(cands, c...)
	})
	return routine, cands, err
}

// serviceJudgement is one service being judged, pair by pair.
type serviceJudgement struct {
	j                *judge
	s                *service
	large, minLinked int64
	total            int64
	kept             []pairRef
	hosts            map[netip.Addr]bool
	named            map[*rules.Finding]bool
	// Pairs that never carry more than minLinked are ordinary traffic: they
	// go straight into the service's history, without an occurrence each
	// (a busy service has hundreds of thousands of them).
	tiny      serviceDays
	tinyFirst int32
	// Every occurrence of every other pair; a routine job's regular runs
	// are history, its departures are judged like the rest.
	occs    []*occRef
	routine []RoutineTransfer
}

func (j *judge) startService(s *service) *serviceJudgement {
	s.named, s.cloud = nil, false
	return &serviceJudgement{j: j, s: s, large: j.o.LargeBytes, minLinked: j.o.LargeBytes / 100,
		hosts: map[netip.Addr]bool{}, named: map[*rules.Finding]bool{}, tiny: serviceDays{}, tinyFirst: math.MaxInt32}
}

// add takes the service's next pair.
func (g *serviceJudgement) add(pr pairRef) {
	j, s := g.j, g.s
	g.hosts[pr.k.src] = true
	j.nameBy(s, pr, g.named)
	bytes := pr.p.totals(nil).bytes
	g.total += bytes
	if s.knownGood {
		g.kept = append(g.kept, pr)
		return
	}
	if _, isRoutine := j.routine[pr.k]; !isRoutine && bytes < g.minLinked {
		m := g.tiny[pr.k.src]
		if m == nil {
			m = map[int32]int64{}
			g.tiny[pr.k.src] = m
		}
		for _, b := range pr.p.buckets {
			m[dayOf(b.hour)] += b.bytes
			g.tinyFirst = min(g.tinyFirst, b.hour)
		}
		return
	}
	g.kept = append(g.kept, pr)
	occ := pairOccurrences(pr.p)
	rp, isRoutine := j.routine[pr.k]
	dep := map[int]bool{}
	for _, i := range rp.departures {
		dep[i] = true
	}
	for i, o := range occ {
		or := &occRef{pr: pr, o: o, routine: isRoutine && !dep[i]}
		if isRoutine && dep[i] {
			or.suspect, or.kind, or.strong, or.seenPre = true, "departure_from_routine", true, true
			or.why = fmt.Sprintf(tr(j.lang, "%s le %s, %.0f fois le volume habituel de ce transfert récurrent (%s)", "%s on %s, %.0f times the usual volume of this recurring transfer (%s)"),
				HumanBytes(o.bytes, j.lang), o.start.Format("2006-01-02"), float64(o.bytes)/float64(max(rp.median, 1)), HumanBytes(rp.median, j.lang))
		}
		g.occs = append(g.occs, or)
	}
	if isRoutine && bytes >= g.large {
		why := fmt.Sprintf(tr(j.lang, "transfert récurrent et régulier présent dès le début du journal %s", "recurring, regular transfer present from the start of the %s log"), j.fwLog.of(j.lang))
		g.routine = append(g.routine, j.routineEntryKeep(s, []pairRef{pr}, rp.text, why, func(b flowBucket) bool {
			for i := range dep {
				if b.hour >= occ[i].fromHour && b.hour <= occ[i].toHour {
					return false
				}
			}
			return true
		}))
	}
}

// finish judges the service once all its pairs are in; the service keeps
// only the pairs that mattered.
func (g *serviceJudgement) finish() (routine []RoutineTransfer, cands []candidate) {
	j, s, large, minLinked := g.j, g.s, g.large, g.minLinked
	s.pairs = g.kept
	routine = g.routine
	if s.knownGood {
		if g.total >= large {
			routine = append(routine, j.routineEntry(s, s.pairs, "", tr(j.lang, "destination connue comme légitime dans la configuration du dossier (known_good_destinations)",
				"destination known good in the case configuration (known_good_destinations)")))
		}
		return routine, nil
	}
	tiny, tinyFirst, occs := g.tiny, g.tinyFirst, g.occs
	sort.SliceStable(occs, func(a, b int) bool { return occs[a].o.start.Before(occs[b].o.start) })
	popular := popularService(tiny, occs, large)
	// history is what the service normally receives: occurrences judged and
	// not suspect, as daily volumes per source.
	history := tiny
	firstHistory := tinyFirst
	addHistory := func(o *occRef) {
		history.add(o)
		firstHistory = min(firstHistory, o.o.fromHour)
	}
	baselineFrom := time.Time{}
	if j.fw != nil {
		baselineFrom = j.fw.Start.Add(baselineDay)
	}
	for _, o := range occs {
		if o.suspect {
			continue
		}
		// Before an intrusion, transfers are the baseline the incident is
		// judged against, not part of it.
		if o.routine || (j.window != nil && o.o.end.Before(j.window.Start)) {
			addHistory(o)
			continue
		}
		inWindow := j.window != nil && !o.o.end.Before(j.window.Start) && !o.o.start.After(j.window.End.Add(episodeGap))
		linked := inWindow && j.sourceActive != nil && j.sourceActive(o.pr.k.src.String(), j.window.Start, j.window.End.Add(episodeGap))
		if o.o.bytes < large && !(linked && o.o.bytes >= minLinked) {
			addHistory(o)
			continue
		}
		hasHistory := firstHistory < o.o.fromHour
		switch {
		case popular != nil:
			// A service many hosts use every day: judged against them, on
			// its first day in the log as on any other.
			npeers, peerVols, _, _ := popular.others(o.pr.k.src)
			_, _, _, ownMax := history.others(o.pr.k.src)
			p95 := percentile95(peerVols)
			ref := max(p95, ownMax)
			if o.o.bytes >= large && o.o.bytes >= aboveFactor*ref {
				o.suspect, o.kind, o.strong, o.seenPre = true, "above_peers", true, true
				o.why = fmt.Sprintf(tr(j.lang, "%s le %s, plus de %d fois ce que %d autres machines envoient chaque jour à ce service d'usage courant (95e centile %s) et ce que cette machine y envoyait (%s)",
					"%s on %s, over %d times what %d other hosts send every day to this service in common use (95th percentile %s) and what this host sent there (%s)"),
					HumanBytes(o.o.bytes, j.lang), o.o.start.Format("2006-01-02"), aboveFactor, npeers, HumanBytes(p95, j.lang), HumanBytes(ownMax, j.lang))
			}
		case !hasHistory:
			if j.fw == nil || (o.o.start.Before(baselineFrom) && !(j.window != nil && !o.o.start.Before(j.window.Start))) {
				// The first day of the log: nothing to compare with, unless an
				// exfiltration finding names the service.
				if len(s.named) > 0 && o.o.bytes >= large {
					o.suspect, o.kind = true, "named_by_finding"
					o.why = fmt.Sprintf(tr(j.lang, "%s le %s vers un service qu'une détection d'exfiltration signale, sans historique antérieur dans le journal",
						"%s on %s to a service an exfiltration finding names, with no earlier history in the log"), HumanBytes(o.o.bytes, j.lang), o.o.start.Format("2006-01-02"))
				}
				break
			}
			o.suspect, o.kind = true, "new_destination"
			fc := j.firstContactRef(s.key)
			// Strong when it outweighs what first contacts weigh here, over a
			// baseline of two days at least.
			o.strong = o.o.bytes >= large && o.o.bytes >= 2*fc && j.fw != nil && o.o.start.Sub(j.fw.Start) >= 2*baselineDay
			o.why = fmt.Sprintf(tr(j.lang, "destination contactée pour la première fois le %s", "destination first contacted at %s"), fmtT(time.Unix(0, s.first).UTC()))
			if j.fw != nil {
				o.why += fmt.Sprintf(tr(j.lang, " (journal %s depuis le %s)", " (%s log since %s)"), j.fwLog.of(j.lang), fmtT(j.fw.Start))
			}
			if fc > 0 {
				o.why += fmt.Sprintf(tr(j.lang, " ; avant l'incident, aucune machine n'avait envoyé plus de %s à une autre destination le jour de son premier contact", "; before the incident no host had sent more than %s to another destination on the day it first contacted it"), HumanBytes(fc, j.lang))
			}
		default:
			peers, peerVols, histMax, ownMax := history.others(o.pr.k.src)
			ref, kind := max(histMax, ownMax), "above_history"
			refWhat := fmt.Sprintf(tr(j.lang, "le plus gros volume journalier vers ce service auparavant (%s)", "the largest daily volume to this service before (%s)"), HumanBytes(ref, j.lang))
			if peers+1 >= prevalentHosts {
				p95 := percentile95(peerVols)
				ref, kind = max(p95, ownMax), "above_peers"
				refWhat = fmt.Sprintf(tr(j.lang, "ce que %d autres machines y envoient par jour (95e centile %s) et ce que cette machine y envoyait (%s)",
					"what %d other hosts send there per day (95th percentile %s) and what this host sent there (%s)"), peers, HumanBytes(p95, j.lang), HumanBytes(ownMax, j.lang))
			}
			if o.o.bytes >= large && o.o.bytes >= aboveFactor*ref {
				// A reference of fewer than minHistoryDays days is too thin to
				// call the excess strong on its own.
				o.suspect, o.kind, o.strong, o.seenPre = true, kind, kind == "above_peers" || history.days() >= minHistoryDays, true
				o.why = fmt.Sprintf(tr(j.lang, "%s le %s, plus de %d fois %s", "%s on %s, over %d times %s"), HumanBytes(o.o.bytes, j.lang), o.o.start.Format("2006-01-02"), aboveFactor, refWhat)
			} else if linked && len(s.named) > 0 {
				o.suspect, o.kind, o.seenPre = true, "named_by_finding", true
				o.why = tr(j.lang, "destination signalée par une détection d'exfiltration, depuis une machine liée à l'intrusion, pendant la fenêtre de l'incident",
					"destination named by an exfiltration finding, from a host tied to the intrusion, during the incident window")
			}
		}
		// Without strength, an intrusion window or activity tied to its
		// source, an excess is left for a person to confirm, not reported
		// as theft.
		if o.suspect && !o.strong && !inWindow && !linked && o.kind != "departure_from_routine" {
			o.suspect, o.weak = false, true
		}
		if !o.suspect {
			addHistory(o)
		}
	}
	cands = pairCandidates(s, occs)
	suspectPair := map[pairKey]bool{}
	for _, c := range cands {
		suspectPair[c.pair.k] = true
	}
	// Large transfers neither routine nor suspect: listed for a person to confirm.
	var unjudged []pairRef
	for _, pr := range s.pairs {
		if _, ok := j.routine[pr.k]; ok || suspectPair[pr.k] {
			continue
		}
		if pr.p.totals(nil).bytes >= large {
			unjudged = append(unjudged, pr)
		}
	}
	if len(unjudged) > 0 {
		hosts := g.hosts
		first := time.Unix(0, s.first).UTC()
		why := fmt.Sprintf(tr(j.lang, "service en usage (depuis le %s, par %d machine(s)) ; aucune occurrence ne dépasse %d fois sa référence",
			"service in use (since %s, by %d host(s)); no occurrence exceeds %d times its reference"), fmtT(first), len(hosts), aboveFactor)
		for _, o := range occs {
			if o.weak {
				why = fmt.Sprintf(tr(j.lang, "inhabituel (%s) mais sans historique suffisant, sans intrusion ni collecte autour : à confirmer", "unusual (%s) but without enough history, and no intrusion or collection around it: please confirm"), o.why)
			}
		}
		noHistory := j.fw != nil && first.Before(baselineFrom) && len(hosts) < prevalentHosts
		if noHistory {
			why = fmt.Sprintf(tr(j.lang, "présent dès le premier jour du journal %s : aucun historique antérieur pour en juger — à confirmer",
				"present from the first day of the %s log: no earlier history to judge it against — please confirm"), j.fwLog.of(j.lang))
		}
		rt := j.routineEntry(s, unjudged, "", why)
		rt.noHistory = noHistory
		routine = append(routine, rt)
	}
	return routine, cands
}

// occRef is one occurrence of a pair being judged.
type occRef struct {
	pr      pairRef
	o       occurrence
	routine bool // a regular run of a recurring job
	suspect bool
	weak    bool // unusual, but without the evidence to call it theft
	kind    string
	why     string
	strong  bool
	seenPre bool
}

// pairCandidates makes one candidate per pair from its suspect occurrences.
func pairCandidates(s *service, occs []*occRef) []candidate {
	byPair := map[pairKey][]*occRef{}
	var order []pairKey
	for _, o := range occs {
		if !o.suspect {
			continue
		}
		if byPair[o.pr.k] == nil {
			order = append(order, o.pr.k)
		}
		byPair[o.pr.k] = append(byPair[o.pr.k], o)
	}
	var out []candidate
	for _, k := range order {
		list := byPair[k]
		var spans [][2]int32
		var whys []string
		c := candidate{svc: s, pair: list[0].pr, kind: list[0].kind}
		for _, o := range list {
			spans = append(spans, [2]int32{o.o.fromHour, o.o.toHour})
			whys = append(whys, o.why)
			c.strong = c.strong || o.strong
			c.seenPre = c.seenPre || o.seenPre
		}
		c.keep = func(b flowBucket) bool {
			for _, sp := range spans {
				if b.hour >= sp[0] && b.hour <= sp[1] {
					return true
				}
			}
			return false
		}
		c.why = strings.Join(uniq(whys), " ; ")
		c.totals = c.pair.p.totals(c.keep)
		out = append(out, c)
	}
	return out
}

// startsWithIntrusion reports a recurrence that begins after the incident
// window opened, from a source the intrusion touched: the same shape as a
// slow theft started on the first night of the log, so not routine.
func (j *judge) startsWithIntrusion(src netip.Addr, occ []occurrence) bool {
	if j.window == nil || occ[0].start.Before(j.window.Start) || j.sourceActive == nil {
		return false
	}
	return j.sourceActive(src.String(), j.window.Start, occ[len(occ)-1].end)
}

func sortedDays(m map[int32]int64) []int32 {
	out := make([]int32, 0, len(m))
	for d := range m {
		out = append(out, d)
	}
	sort.Slice(out, func(a, b int) bool { return out[a] < out[b] })
	return out
}

func containsDay(ds []int32, d int32) bool {
	for _, x := range ds {
		if x == d {
			return true
		}
	}
	return false
}

func (j *judge) newCandidate(s *service, pr pairRef, keep func(flowBucket) bool, kind, why string, strong bool) candidate {
	return candidate{svc: s, pair: pr, keep: keep, kind: kind, why: why, strong: strong, totals: pr.p.totals(keep)}
}

func (j *judge) routineEntry(s *service, prs []pairRef, pattern, why string) RoutineTransfer {
	return j.routineEntryKeep(s, prs, pattern, why, nil)
}

func (j *judge) routineEntryKeep(s *service, prs []pairRef, pattern, why string, keep func(flowBucket) bool) RoutineTransfer {
	rt := RoutineTransfer{Pattern: pattern, Why: why, Sources: []Source{}}
	dests := map[netip.Addr]int64{}
	daySet := map[int32]bool{}
	srcs := map[netip.Addr]bool{}
	for _, pr := range prs {
		t := pr.p.totals(keep)
		rt.Bytes += t.bytes
		rt.Events += t.sessions
		if rt.FirstSeen.IsZero() || (!t.first.IsZero() && t.first.Before(rt.FirstSeen)) {
			rt.FirstSeen = t.first
		}
		if t.last.After(rt.LastSeen) {
			rt.LastSeen = t.last
		}
		dests[pr.k.dst] += t.bytes
		srcs[pr.k.src] = true
		if rt.Destination.Domain == "" {
			rt.Destination.Domain = pr.p.domain
		}
		if rt.Destination.Port == 0 {
			rt.Destination.Port = int64(pr.p.port)
		}
		for _, b := range pr.p.buckets {
			if keep == nil || keep(b) {
				daySet[dayOf(b.hour)] = true
			}
		}
	}
	rt.Destination.IP = addrText(topAddr(dests))
	rt.Days = len(daySet)
	for _, a := range sortedAddrs(srcs) {
		rt.Sources = append(rt.Sources, Source{IP: a.String()})
	}
	return rt
}

func topAddr(m map[netip.Addr]int64) netip.Addr {
	var best netip.Addr
	var bv int64 = -1
	for a, v := range m {
		if v > bv || (v == bv && a.Less(best)) {
			best, bv = a, v
		}
	}
	return best
}

func sortedAddrs(m map[netip.Addr]bool) []netip.Addr {
	out := make([]netip.Addr, 0, len(m))
	for a := range m {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Less(out[j]) })
	return out
}
