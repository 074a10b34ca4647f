package zone

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/libdns/libdns"
)

// plan is the outcome of applying a batch of operations to a zone in memory.
type plan struct {
	after   []Record // the zone after every operation, in order
	origin  []int    // for each after[i]: its index in before, or -1 if new
	deleted map[int]bool
	results [][]libdns.RR // per operation
	errs    []error       // per operation
	changed bool
}

// merge applies ops in order to before. It never reorders or rewrites kept
// records: they keep their position and their Raw.
func merge(before []Record, ops []*op) plan {
	p := plan{deleted: map[int]bool{}, results: make([][]libdns.RR, len(ops)), errs: make([]error, len(ops))}
	p.after = append([]Record(nil), before...)
	p.origin = make([]int, len(before))
	for i := range before {
		p.origin[i] = i
	}
	remove := func(k int) libdns.RR {
		rr := p.after[k].RR
		if o := p.origin[k]; o >= 0 {
			p.deleted[o] = true
		}
		p.after = append(p.after[:k], p.after[k+1:]...)
		p.origin = append(p.origin[:k], p.origin[k+1:]...)
		p.changed = true
		return rr
	}
	add := func(rr libdns.RR) {
		p.after = append(p.after, Record{RR: rr})
		p.origin = append(p.origin, -1)
		p.changed = true
	}
	for i, o := range ops {
		var res []libdns.RR
		switch o.kind {
		case opAppend:
			for _, rr := range o.rrs {
				if k := p.find(rr); k >= 0 {
					res = append(res, p.after[k].RR)
					continue
				}
				add(rr)
				res = append(res, rr)
			}
		case opSet:
			claimed := make([]bool, len(o.rrs))
			for k := 0; k < len(p.after); {
				cur := p.after[k].RR
				inSet, keep := false, false
				for j, rr := range o.rrs {
					if sameName(cur.Name, rr.Name) && cur.Type == rr.Type {
						inSet = true
						if !claimed[j] && sameData(cur, rr) && cur.TTL == rr.TTL {
							claimed[j], keep = true, true
							break
						}
					}
				}
				if inSet && !keep {
					remove(k)
					continue
				}
				k++
			}
			for j, rr := range o.rrs {
				if !claimed[j] {
					add(rr)
				}
			}
			res = o.rrs
		case opDelete:
			for _, pat := range o.rrs {
				for k := 0; k < len(p.after); {
					if matches(pat, p.after[k].RR) {
						res = append(res, remove(k))
						continue
					}
					k++
				}
			}
		}
		p.results[i] = res
	}
	return p
}

// find returns the index of a record equal to rr apart from TTL, or -1.
func (p *plan) find(rr libdns.RR) int {
	for k, r := range p.after {
		if sameName(r.RR.Name, rr.Name) && r.RR.Type == rr.Type && sameData(r.RR, rr) {
			return k
		}
	}
	return -1
}

// check refuses a plan that lost or altered a record of before that no
// operation deleted.
func (p *plan) check(before []Record) error {
	seen := make([]int, len(before))
	for k, o := range p.origin {
		if o < 0 {
			continue
		}
		if o >= len(before) || !bytes.Equal(p.after[k].Raw, before[o].Raw) || p.after[k].RR != before[o].RR || p.after[k].ID != before[o].ID {
			return fmt.Errorf("refusing to write: record %s would be altered", show(before[min(o, len(before)-1)].RR))
		}
		seen[o]++
	}
	for i, n := range seen {
		if n != 1 && !(n == 0 && p.deleted[i]) {
			return fmt.Errorf("refusing to write: record %s would be lost", show(before[i].RR))
		}
	}
	return nil
}

// matches reports whether a delete pattern selects r: empty Type or Data and
// zero TTL in the pattern match anything.
func matches(pat, r libdns.RR) bool {
	return sameName(pat.Name, r.Name) &&
		(pat.Type == "" || pat.Type == r.Type) &&
		(pat.TTL == 0 || pat.TTL == r.TTL) &&
		(pat.Data == "" || sameData(pat, r))
}

func sameName(a, b string) bool {
	return strings.EqualFold(strings.TrimSuffix(a, "."), strings.TrimSuffix(b, "."))
}

// sameData compares record data. TXT is compared byte for byte; other types
// also match when their parsed forms agree ("10  MX.example.com." and
// "10 mx.example.com.").
func sameData(a, b libdns.RR) bool {
	if a.Data == b.Data {
		return true
	}
	if a.Type == "TXT" || b.Type == "TXT" {
		return false
	}
	return normalData(a) == normalData(b)
}

func normalData(rr libdns.RR) string {
	rr.Name = "@"
	if r, err := rr.Parse(); err == nil {
		rr = r.RR()
	}
	return strings.ToLower(strings.Join(strings.Fields(rr.Data), " "))
}

// diff returns the records of want missing from got and those of got not in
// want, compared by name, type, data and TTL.
func diff(want, got []Record) (missing, extra []libdns.RR) {
	used := make([]bool, len(got))
outer:
	for _, w := range want {
		for j, g := range got {
			if !used[j] && sameName(w.RR.Name, g.RR.Name) && w.RR.Type == g.RR.Type && sameData(w.RR, g.RR) && w.RR.TTL == g.RR.TTL {
				used[j] = true
				continue outer
			}
		}
		missing = append(missing, w.RR)
	}
	for j, g := range got {
		if !used[j] {
			extra = append(extra, g.RR)
		}
	}
	return missing, extra
}

func show(rr libdns.RR) string {
	return fmt.Sprintf("%s %d %s %q", rr.Name, int(rr.TTL.Seconds()), rr.Type, rr.Data)
}

func describe(rrs []libdns.RR) string {
	if len(rrs) == 0 {
		return "nothing"
	}
	s := make([]string, len(rrs))
	for i, rr := range rrs {
		s[i] = show(rr)
	}
	return strings.Join(s, ", ")
}

// Canonical returns name in lower case with exactly one trailing dot.
func Canonical(name string) string {
	name = strings.ToLower(strings.TrimSpace(name))
	return strings.TrimSuffix(name, ".") + "."
}

// InZone reports whether the canonical name is zone or below it.
func InZone(name, zone string) bool {
	return name == zone || strings.HasSuffix(name, "."+zone)
}

// relative returns rr with its name relative to zone, as the typed libdns
// record when its data parses.
func relative(rr libdns.RR, zone string) libdns.Record {
	rr.Name = libdns.RelativeName(rr.Name, zone)
	if r, err := rr.Parse(); err == nil {
		return r
	}
	return rr
}
