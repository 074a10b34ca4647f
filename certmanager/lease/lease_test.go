//go:build k8s

package lease_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	coordv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/acme-dns-hook/acme-dns-hook/certmanager/internal/kubetest"
	"github.com/acme-dns-hook/acme-dns-hook/certmanager/lease"
	"github.com/acme-dns-hook/acme-dns-hook/internal/api/apitest"
)

func clientFor(t *testing.T, kubeconfig string) kubernetes.Interface {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	// Not client-go's default of 5 requests a second: the subtests make
	// hundreds, and a throttled renewal would fail as it does in an
	// overloaded cluster.
	cfg.QPS, cfg.Burst = 200, 400
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestLocker runs Lockers against a real kube-apiserver: two holders never
// hold one key at once; a Lease left by a holder that died is taken over
// once it expires; a held Lease is renewed past its duration and not taken;
// a caller that gives up gets an error naming the Lease; missing RBAC is
// one sentence saying what to grant.
func TestLocker(t *testing.T) {
	cluster := kubetest.Start(t)
	client := clientFor(t, cluster.AdminKubeconfig)
	var logs apitest.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	a := &lease.Locker{Client: client, Namespace: "default", Identity: "replica-a", Log: log}
	b := &lease.Locker{Client: client, Namespace: "default", Identity: "replica-b", Log: log}
	leases := client.CoordinationV1().Leases("default")
	holder := func(t *testing.T, key string) string {
		t.Helper()
		l, err := leases.Get(context.Background(), lease.Name(key), metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if l.Spec.HolderIdentity == nil {
			return ""
		}
		return *l.Spec.HolderIdentity
	}

	t.Run("mutual exclusion", func(t *testing.T) {
		var inside, overlaps, rounds atomic.Int32
		var wg sync.WaitGroup
		for _, l := range []*lease.Locker{a, b, a, b} {
			wg.Go(func() {
				for range 10 {
					unlock, err := l.Lock(t.Context(), "mutual")
					if err != nil {
						t.Error(err)
						return
					}
					if inside.Add(1) > 1 {
						overlaps.Add(1)
					}
					if h := holder(t, "mutual"); h != l.Identity {
						t.Errorf("inside %s's critical section the Lease names %q", l.Identity, h)
					}
					rounds.Add(1)
					inside.Add(-1)
					unlock()
				}
			})
		}
		wg.Wait()
		if overlaps.Load() != 0 {
			t.Errorf("%d critical sections overlapped", overlaps.Load())
		}
		if rounds.Load() != 40 {
			t.Errorf("%d rounds, want 40", rounds.Load())
		}
		if h := holder(t, "mutual"); h != "" {
			t.Errorf("after every unlock the Lease names %q", h)
		}
	})

	t.Run("a dead holder's Lease expires", func(t *testing.T) {
		// A replica that died mid-write left the Lease held, and renews
		// it no more.
		secs := int32(1)
		dead := "replica-dead-0001"
		now := metav1.NowMicro()
		if _, err := leases.Create(t.Context(), &coordv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: lease.Name("dead")},
			Spec:       coordv1.LeaseSpec{HolderIdentity: &dead, LeaseDurationSeconds: &secs, AcquireTime: &now, RenewTime: &now},
		}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		unlock, err := b.Lock(ctx, "dead")
		if err != nil {
			t.Fatal(err)
		}
		if h := holder(t, "dead"); h != b.Identity {
			t.Errorf("the Lease names %q, want %q", h, b.Identity)
		}
		unlock()
		if !strings.Contains(logs.String(), "took over an expired zone Lease") || !strings.Contains(logs.String(), "previousHolder="+dead) {
			t.Errorf("log does not say the Lease was taken over from %s:\n%s", dead, logs.String())
		}
	})

	t.Run("a held Lease is renewed", func(t *testing.T) {
		short := &lease.Locker{Client: client, Namespace: "default", Identity: "replica-short", Duration: 2 * time.Second, Renew: 200 * time.Millisecond, Log: log}
		w, err := leases.Watch(t.Context(), metav1.ListOptions{FieldSelector: "metadata.name=" + lease.Name("renewed")})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		unlock, err := short.Lock(t.Context(), "renewed")
		if err != nil {
			t.Fatal(err)
		}
		taken := make(chan func(), 1)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		go func() {
			u, err := b.Lock(ctx, "renewed")
			if err != nil {
				taken <- nil
				return
			}
			taken <- u
		}()
		// Twelve renewals span more than the Lease's two-second duration.
		var first, last time.Time
		limit := time.NewTimer(30 * time.Second) // for a broken renewal, not a wait
		defer limit.Stop()
		for renewals := 0; renewals < 12; {
			var ev watch.Event
			select {
			case e, open := <-w.ResultChan():
				if !open {
					t.Fatal("the watch of the Lease ended")
				}
				ev = e
			case <-limit.C:
				t.Fatalf("%d renewals within 30 s", renewals)
			}
			l, ok := ev.Object.(*coordv1.Lease)
			if !ok || (ev.Type != watch.Modified && ev.Type != watch.Added) || l.Spec.HolderIdentity == nil {
				continue
			}
			if h := *l.Spec.HolderIdentity; h != short.Identity {
				t.Fatalf("%s took the Lease while %s renewed it", h, short.Identity)
			}
			if first.IsZero() {
				first = l.Spec.RenewTime.Time
				continue
			}
			last = l.Spec.RenewTime.Time
			renewals++
		}
		if last.Sub(first) <= 2*time.Second {
			t.Fatalf("renewals span only %v", last.Sub(first))
		}
		select {
		case u := <-taken:
			if u != nil {
				u()
			}
			t.Fatal("another replica took a Lease that was being renewed")
		default:
		}
		unlock()
		if u := <-taken; u == nil {
			t.Fatal("the waiting replica did not get the Lease after its release")
		} else {
			u()
		}
	})

	t.Run("caller gives up", func(t *testing.T) {
		unlock, err := a.Lock(t.Context(), "given-up")
		if err != nil {
			t.Fatal(err)
		}
		defer unlock()
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := b.Lock(ctx, "given-up"); err == nil || !strings.Contains(err.Error(), lease.Name("given-up")) {
			t.Errorf("err = %v, want one naming the Lease", err)
		}
		if h := holder(t, "given-up"); h != a.Identity {
			t.Errorf("the Lease names %q", h)
		}
	})

	t.Run("forbidden", func(t *testing.T) {
		nobody := &lease.Locker{Client: clientFor(t, cluster.UserKubeconfig(t, "nobody")), Namespace: "default", Identity: "nobody-1"}
		_, err := nobody.Lock(t.Context(), "forbidden")
		want := "the webhook may not use Leases in namespace default (reading Lease " + lease.Name("forbidden") + "): grant its ServiceAccount get, create and update on leases.coordination.k8s.io there"
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want %q", err, want)
		}
	})
}

// TestName: Lease names are valid DNS-1123 names, one per key.
func TestName(t *testing.T) {
	a, b := lease.Name("mijnhost https://mijn.host/api/v2|example.com."), lease.Name("mijnhost https://mijn.host/api/v2|example.net.")
	if a == b || len(a) > 63 || !strings.HasPrefix(a, "acme-dns-hook-") || strings.ToLower(a) != a {
		t.Errorf("names %q and %q", a, b)
	}
}
