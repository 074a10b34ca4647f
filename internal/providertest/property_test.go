package providertest

import (
	"context"
	"flag"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/libdns/libdns"
)

var propertyOps = flag.Int("property.ops", 30, "operations per provider in TestKitPropertyRandomOps")

// TestKitPropertyRandomOps runs a random sequence of appends, sets and
// deletes on a few names of the seeded zone of every provider, with HTTP
// 500 answers injected before some of them (one or two, which the clients
// retry): every operation succeeds, every seed record stays byte for byte
// as it was, and the names hold exactly what a model of the operations
// says. The sequence is fixed per provider (-property.ops sets its length;
// make fuzz runs it longer).
func TestKitPropertyRandomOps(t *testing.T) {
	forEachProvider(t, func(t *testing.T, k *kit) {
		rng := rand.New(rand.NewPCG(17, uint64(len(k.name))))
		ctx := context.Background()
		names := []string{"_prop-a", "_prop-b", "_acme-challenge.prop"}
		model := map[string]map[string]bool{}
		for _, n := range names {
			model[n] = map[string]bool{}
		}
		faults := 0
		for i := range *propertyOps {
			if rng.IntN(4) == 0 {
				n := 1 + rng.IntN(2)
				k.fake.FailServerErrors(n)
				faults += n
			}
			name, value := names[rng.IntN(len(names))], fmt.Sprintf("value-%d", rng.IntN(4))
			rec := []libdns.Record{txt(name, value)}
			var err error
			switch op := rng.IntN(3); op {
			case 0:
				_, err = k.p.AppendRecords(ctx, Zone+".", rec)
				model[name][value] = true
			case 1:
				_, err = k.p.SetRecords(ctx, Zone+".", rec)
				model[name] = map[string]bool{value: true}
			case 2:
				_, err = k.p.DeleteRecords(ctx, Zone+".", rec)
				delete(model[name], value)
			}
			if err != nil {
				t.Fatalf("operation %d: %v", i, err)
			}
		}
		k.fake.FailServerErrors(0)
		extra := k.kept(t) // fails the test if a seed record changed
		want := 0
		for _, n := range names {
			got := k.txts(t, n)
			exp := slices.Sorted(maps.Keys(model[n]))
			if !slices.Equal(got, exp) {
				t.Errorf("%s holds %q, want %q", n, got, exp)
			}
			want += len(exp)
		}
		if len(extra) != want {
			t.Errorf("%d records besides the seed, want %d: %q", len(extra), want, extra)
		}
		t.Logf("%d operations, %d injected 500s, %d records at the end", *propertyOps, faults, want)
	})
}
