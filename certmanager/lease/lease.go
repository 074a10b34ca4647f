// Package lease serialises zone writes across webhook replicas with one
// Kubernetes Lease (coordination.k8s.io/v1) per zone-lock key.
//
// A Locker holds a key's Lease from the moment Lock returns until the
// unlock function returns: it acquires the Lease by creating it, or by
// updating it (with the resourceVersion it read) when no one holds it or
// its holder stopped renewing it for leaseDurationSeconds; it renews it
// every Renew while held, and releases it by clearing the holder. A replica
// that dies while holding a Lease stops renewing it, so the Lease expires
// and another replica takes it after Duration. No two Lock calls hold one
// key's Lease at once (whether of one Locker or of several), provided the
// replicas' clocks agree to well within Duration and each renewal reaches
// kube-apiserver before the Lease expires.
package lease

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"os"
	"strings"
	"time"

	coordv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Defaults: a Lease left by a dead replica is free after 15 s; a holder
// renews it every 5 s.
const (
	DefaultDuration = 15 * time.Second
	DefaultRenew    = 5 * time.Second
)

// KeyAnnotation holds the zone-lock key a Lease stands for (the API
// endpoint and zone, never a credential), for people reading the Lease.
const KeyAnnotation = "acme-dns-hook.io/lock-key"

// serviceAccountNamespace is where a pod finds its own namespace.
const serviceAccountNamespace = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

// Locker takes Leases in one namespace under one holder identity.
type Locker struct {
	// Client reaches the Kubernetes API.
	Client kubernetes.Interface
	// Namespace holds the Leases.
	Namespace string
	// Identity is the holderIdentity written into each Lease this Locker
	// holds; unique per process (see Identity).
	Identity string
	// Duration is the leaseDurationSeconds of each Lease; default
	// DefaultDuration.
	Duration time.Duration
	// Renew is how often a held Lease is renewed; default DefaultRenew.
	Renew time.Duration
	// MaxWait is the longest wait between two tries while another holder
	// has the Lease; default 500 ms.
	MaxWait time.Duration
	// Log, when set, receives a line when a Lease is taken over from a
	// holder that let it expire, or when renewing or releasing fails.
	Log *slog.Logger
}

// Name returns the Lease name of key: "acme-dns-hook-" and 40 hex digits of
// its SHA-256, a valid DNS-1123 name.
func Name(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "acme-dns-hook-" + hex.EncodeToString(sum[:20])
}

// Identity returns a holder identity: the pod's name (POD_NAME, else the
// host name) and a random suffix, so that a restarted pod of the same name
// is another holder.
func Identity() string {
	name := os.Getenv("POD_NAME")
	if name == "" {
		name, _ = os.Hostname()
	}
	if name == "" {
		name = "webhook"
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return name + "-" + hex.EncodeToString(b)
}

// Namespace returns the namespace the webhook runs in: POD_NAMESPACE, else
// the in-cluster service account's namespace file, else fallback (a flag
// or ACME_HOOK_LEASE_NAMESPACE). The error says how to set it.
func Namespace(fallback string) (string, error) {
	if ns := strings.TrimSpace(os.Getenv("POD_NAMESPACE")); ns != "" {
		return ns, nil
	}
	if b, err := os.ReadFile(serviceAccountNamespace); err == nil && strings.TrimSpace(string(b)) != "" {
		return strings.TrimSpace(string(b)), nil
	}
	if ns := strings.TrimSpace(fallback); ns != "" {
		return ns, nil
	}
	return "", errors.New("no namespace for the zone Leases: set POD_NAMESPACE (the chart sets it from the pod's namespace) or ACME_HOOK_LEASE_NAMESPACE")
}

func (l *Locker) duration() time.Duration {
	if l.Duration > 0 {
		return l.Duration
	}
	return DefaultDuration
}

// Lock blocks until this Locker holds key's Lease, or ctx ends. unlock
// stops the renewal and releases the Lease; it may be called once.
func (l *Locker) Lock(ctx context.Context, key string) (unlock func(), err error) {
	if l.Client == nil || l.Namespace == "" || l.Identity == "" {
		return nil, errors.New("lease: Locker needs a Client, a Namespace and an Identity")
	}
	name := Name(key)
	wait := 20 * time.Millisecond
	maxWait := l.MaxWait
	if maxWait <= 0 {
		maxWait = 500 * time.Millisecond
	}
	for {
		held, err := l.try(ctx, name, key)
		if err != nil {
			return nil, err
		}
		if held != nil {
			return l.hold(held), nil
		}
		t := time.NewTimer(wait/2 + mrand.N(wait/2+1))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("waiting for the zone lock (Lease %s/%s): %w", l.Namespace, name, context.Cause(ctx))
		case <-t.C:
		}
		wait = min(2*wait, maxWait)
	}
}

// try takes the Lease once if it is free: created, or updated with the
// resourceVersion read. It returns nil (and no error) when another holder
// has it or another replica won a race for it.
func (l *Locker) try(ctx context.Context, name, key string) (*coordv1.Lease, error) {
	leases := l.Client.CoordinationV1().Leases(l.Namespace)
	now := metav1.NowMicro()
	secs := int32(l.duration() / time.Second)
	cur, err := leases.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		lease := &coordv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: l.Namespace, Annotations: map[string]string{KeyAnnotation: key}},
			Spec: coordv1.LeaseSpec{
				HolderIdentity:       &l.Identity,
				LeaseDurationSeconds: &secs,
				AcquireTime:          &now,
				RenewTime:            &now,
			},
		}
		created, err := leases.Create(ctx, lease, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			return nil, nil
		}
		if err != nil {
			return nil, l.fail("creating", name, err)
		}
		return created, nil
	}
	if err != nil {
		return nil, l.fail("reading", name, err)
	}
	holder := ""
	if cur.Spec.HolderIdentity != nil {
		holder = *cur.Spec.HolderIdentity
	}
	// A Lease that names this Locker's own identity is held too: by
	// another Lock call of this Locker, or left by a release that failed;
	// it frees itself when it expires.
	expired := false
	if holder != "" {
		if cur.Spec.RenewTime == nil || cur.Spec.LeaseDurationSeconds == nil {
			expired = true
		} else {
			end := cur.Spec.RenewTime.Add(time.Duration(*cur.Spec.LeaseDurationSeconds) * time.Second)
			expired = end.Before(now.Time)
		}
		if !expired {
			return nil, nil
		}
	}
	next := cur.DeepCopy()
	next.Spec.HolderIdentity = &l.Identity
	next.Spec.LeaseDurationSeconds = &secs
	next.Spec.AcquireTime = &now
	next.Spec.RenewTime = &now
	if next.Annotations == nil {
		next.Annotations = map[string]string{}
	}
	next.Annotations[KeyAnnotation] = key
	updated, err := leases.Update(ctx, next, metav1.UpdateOptions{})
	if apierrors.IsConflict(err) {
		return nil, nil
	}
	if err != nil {
		return nil, l.fail("taking", name, err)
	}
	if expired && l.Log != nil {
		l.Log.Warn("took over an expired zone Lease", "lease", l.Namespace+"/"+name, "previousHolder", holder)
	}
	return updated, nil
}

// fail words an API error of the Lease, with the RBAC fix when forbidden.
func (l *Locker) fail(verb, name string, err error) error {
	if apierrors.IsForbidden(err) {
		return fmt.Errorf("the webhook may not use Leases in namespace %s (%s Lease %s): grant its ServiceAccount get, create and update on leases.coordination.k8s.io there (the chart does)", l.Namespace, verb, name)
	}
	return fmt.Errorf("%s the zone lock Lease %s/%s: %w", verb, l.Namespace, name, err)
}

// hold renews lease until the returned unlock is called, which releases it.
func (l *Locker) hold(lease *coordv1.Lease) func() {
	leases := l.Client.CoordinationV1().Leases(l.Namespace)
	stop := make(chan struct{})
	done := make(chan *coordv1.Lease, 1)
	renew := l.Renew
	if renew <= 0 {
		renew = DefaultRenew
	}
	go func() {
		cur := lease
		t := time.NewTicker(renew)
		defer t.Stop()
		for {
			select {
			case <-stop:
				done <- cur
				return
			case <-t.C:
				next := cur.DeepCopy()
				now := metav1.NowMicro()
				next.Spec.RenewTime = &now
				// A renewal may take until the Lease would expire.
				ctx, cancel := context.WithTimeout(context.Background(), max(l.duration()-renew, renew))
				updated, err := leases.Update(ctx, next, metav1.UpdateOptions{})
				cancel()
				if err != nil {
					if l.Log != nil {
						l.Log.Warn("renewing the zone Lease failed", "lease", l.Namespace+"/"+lease.Name, "error", err)
					}
					continue
				}
				cur = updated
			}
		}
	}()
	return func() {
		close(stop)
		cur := <-done
		next := cur.DeepCopy()
		next.Spec.HolderIdentity = nil
		next.Spec.AcquireTime = nil
		next.Spec.RenewTime = nil
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := leases.Update(ctx, next, metav1.UpdateOptions{}); err != nil && l.Log != nil {
			// A conflict means another replica took the Lease after it
			// expired: nothing is ours to release.
			l.Log.Warn("releasing the zone Lease failed; it frees itself when it expires", "lease", l.Namespace+"/"+cur.Name, "error", err)
		}
	}
}
