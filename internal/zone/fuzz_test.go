package zone

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/libdns/libdns"
)

// fuzzBytes reads small numbers from the fuzzer's bytes.
type fuzzBytes []byte

func (b *fuzzBytes) next(n int) int {
	if len(*b) == 0 {
		return 0
	}
	v := int((*b)[0]) % n
	*b = (*b)[1:]
	return v
}

var (
	fuzzNames = []string{testZone, "_acme-challenge." + testZone, "www." + testZone, "a.b." + testZone}
	fuzzTypes = []string{"TXT", "A", "MX", "CNAME"}
	fuzzData  = []string{"x", "y", "192.0.2.1", "10 mail.example.com.", "v=spf1 -all"}
)

func (b *fuzzBytes) rr() libdns.RR {
	return libdns.RR{Name: fuzzNames[b.next(len(fuzzNames))], Type: fuzzTypes[b.next(len(fuzzTypes))],
		Data: fuzzData[b.next(len(fuzzData))], TTL: time.Duration(60*(1+b.next(3))) * time.Second}
}

// FuzzMerge applies random batches of appends, sets and deletes to random
// zones: the plan never drops a record it keeps (check passes), every kept
// record keeps its Raw and its order, and a record no operation names is
// kept.
func FuzzMerge(f *testing.F) {
	for _, seed := range [][]byte{{3, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 2, 0, 1, 1, 1, 0, 1}, {8, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33}, {0, 4, 1, 3, 0, 0, 0, 0, 2, 3, 0, 0, 0, 0}} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		b := fuzzBytes(data)
		var before []Record
		for i := range b.next(9) {
			before = append(before, Record{RR: b.rr(), Raw: fmt.Appendf(nil, `{"raw":%d}`, i)})
		}
		var ops []*op
		named := map[string]bool{} // name+type every set or delete touches
		for range b.next(6) {
			o := &op{kind: opKind(b.next(3))}
			for range 1 + b.next(3) {
				rr := b.rr()
				if o.kind == opDelete && b.next(2) == 0 {
					rr.Data = "" // any value at the name
				}
				o.rrs = append(o.rrs, rr)
				if o.kind != opAppend {
					named[rr.Name+" "+rr.Type] = true
				}
			}
			ops = append(ops, o)
		}
		p := merge(before, ops)
		if err := p.check(before); err != nil {
			t.Fatalf("the plan drops a record it keeps: %v", err)
		}
		last := -1
		for i, r := range p.after {
			o := p.origin[i]
			if o < 0 {
				continue
			}
			if !slices.Equal(r.Raw, before[o].Raw) || r.RR != before[o].RR {
				t.Fatalf("kept record %d changed: %+v, was %+v", o, r, before[o])
			}
			if o <= last {
				t.Fatalf("kept records reordered")
			}
			last = o
		}
		for i, r := range before {
			if !named[r.RR.Name+" "+r.RR.Type] && !slices.Contains(p.origin, i) {
				t.Fatalf("record %d (%s), which no operation names, was dropped", i, show(r.RR))
			}
		}
	})
}
