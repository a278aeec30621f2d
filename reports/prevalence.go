package reports

import (
	"net/netip"
)

// Routine by prevalence (baselines.go): a service many internal hosts
// send ordinary volumes to is in common use; each host's days to it are
// the reference a host far above its peers is measured against.

// serviceDays holds per-source daily volumes to one service.
type serviceDays map[netip.Addr]map[int32]int64

func (sd serviceDays) add(o *occRef) {
	m := sd[o.pr.k.src]
	if m == nil {
		m = map[int32]int64{}
		sd[o.pr.k.src] = m
	}
	for _, b := range o.pr.p.buckets {
		if b.hour >= o.o.fromHour && b.hour <= o.o.toHour {
			m[dayOf(b.hour)] += b.bytes
		}
	}
}

// days counts the distinct days of the history.
func (sd serviceDays) days() int {
	seen := map[int32]bool{}
	for _, m := range sd {
		for d := range m {
			seen[d] = true
		}
	}
	return len(seen)
}

// others returns the daily volumes of every source but self, how many
// sources those are, and the largest day of all and of self.
func (sd serviceDays) others(self netip.Addr) (peers int, vols []int64, allMax, ownMax int64) {
	for src, m := range sd {
		for _, v := range m {
			allMax = max(allMax, v)
			if src == self {
				ownMax = max(ownMax, v)
			} else {
				vols = append(vols, v)
			}
		}
		if src != self {
			peers++
		}
	}
	return
}

// popularService says whether a service is in common use: prevalentHosts or
// more hosts sending it ordinary volumes (under LargeBytes) on two days or
// more; it returns their daily volumes, nil when the service is not.
func popularService(tiny serviceDays, occs []*occRef, large int64) serviceDays {
	sd := serviceDays{}
	for src, m := range tiny {
		c := make(map[int32]int64, len(m))
		for d, v := range m {
			c[d] = v
		}
		sd[src] = c
	}
	for _, o := range occs {
		if o.o.bytes < large {
			sd.add(o)
		}
	}
	regular := 0
	for _, m := range sd {
		if len(m) >= 2 {
			regular++
		}
	}
	if regular < prevalentHosts {
		return nil
	}
	return sd
}
