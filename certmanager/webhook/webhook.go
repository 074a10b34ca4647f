// Package webhook is the cert-manager DNS-01 webhook: one cert-manager
// solver per registered provider, configured from the provider's
// descriptor, writing through the same libdns providers and zone engine as
// every other surface of acme-dns-hook.
//
// An Issuer's webhook config holds the descriptor's settings in camelCase
// (apiUrl, ttl, zoneService, …); each secret setting is a reference
// <field>SecretRef: {name, key} to a Secret in the challenge's resource
// namespace (apiKeySecretRef, passwordSecretRef, …). The webhook's own
// environment is read only when the challenge allows ambient credentials
// (a ClusterIssuer does by default).
//
// The solvers guarantee: Present adds the challenge's value without
// touching any other record, and presenting it again changes nothing;
// CleanUp removes exactly that value (apex and wildcard share a name) and
// succeeds when it is gone already; every other record of the zone is sent
// back byte for byte. The record goes into the account's deepest zone that
// holds cert-manager's resolvedFQDN, whatever resolvedZone says. Each call
// returns within Options.CallTimeout. Errors are one sentence naming what
// to fix; they never hold a secret.
package webhook

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	cmwebhook "github.com/cert-manager/cert-manager/pkg/acme/webhook"
	whapi "github.com/cert-manager/cert-manager/pkg/acme/webhook/apis/acme/v1alpha1"

	"github.com/acme-dns-hook/acme-dns-hook/internal/api"
	"github.com/acme-dns-hook/acme-dns-hook/internal/providers"
	"github.com/acme-dns-hook/acme-dns-hook/internal/settings"
	dnssolver "github.com/acme-dns-hook/acme-dns-hook/internal/solver"
	"github.com/acme-dns-hook/acme-dns-hook/internal/zone"
)

// DefaultCallTimeout bounds one Present or CleanUp, retries included:
// cert-manager reports confusing errors when a webhook call takes longer
// than about 25 seconds.
const DefaultCallTimeout = 20 * time.Second

// Lock serialises writes to one zone across processes; see
// zone.Options.Lock.
type Lock func(ctx context.Context, key string) (unlock func(), err error)

// Options are what the solvers share. The zero value works in a cluster
// without cross-replica locking.
type Options struct {
	// Client returns the Kubernetes client Secrets are read with, made
	// from the configuration cert-manager's server hands to Initialize
	// (which may be nil outside a cluster). Default kubernetes.NewForConfig.
	Client func(*rest.Config) (kubernetes.Interface, error)
	// Lock, when set, is made at each Initialize from the same client and
	// serialises zone writes across replicas (a Lease per zone, see package
	// lease). Nil: zone writes are serialised within this process only.
	Lock func(client kubernetes.Interface) (Lock, error)
	// Env is the webhook's own environment, read only for challenges that
	// allow ambient credentials. Default settings.OSEnv.
	Env settings.Env
	// HTTPClient sends the providers' API requests. Default: a client with
	// a 10 s timeout.
	HTTPClient *http.Client
	// CallTimeout bounds each Present and CleanUp. Default
	// DefaultCallTimeout.
	CallTimeout time.Duration
	// Log receives one line per record written or removed, and one when
	// cert-manager's resolvedZone is not the account's zone. Default
	// slog.Default().
	Log *slog.Logger
}

// shared is the state every solver of one Solvers call uses, replaced at
// each Initialize.
type shared struct {
	opts Options

	mu     sync.Mutex
	client kubernetes.Interface
	lock   Lock
	cache  map[string]providers.Provider // settings hash -> provider, to share its engine
}

// Solver is the cert-manager solver of one provider. It is safe for
// concurrent use.
type Solver struct {
	d  *settings.Descriptor
	sh *shared
}

var _ cmwebhook.Solver = (*Solver)(nil)

// Solvers returns one solver per registered provider, sorted by name. They
// share one Kubernetes client and one cross-process lock, made when
// cert-manager's server calls Initialize on any of them.
func Solvers(opts Options) []cmwebhook.Solver {
	if opts.Client == nil {
		opts.Client = func(c *rest.Config) (kubernetes.Interface, error) {
			if c == nil {
				return nil, fmt.Errorf("no Kubernetes client configuration: run the webhook in a cluster or give --kubeconfig")
			}
			// Above client-go's default of 5 requests a second: each
			// challenge reads its Secrets and takes a zone Lease, and a
			// throttled Lease renewal could let the Lease expire.
			c = rest.CopyConfig(c)
			if c.QPS == 0 {
				c.QPS, c.Burst = 50, 100
			}
			return kubernetes.NewForConfig(c)
		}
	}
	if opts.Env == nil {
		opts.Env = settings.OSEnv
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = DefaultCallTimeout
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	sh := &shared{opts: opts}
	var out []cmwebhook.Solver
	for _, d := range providers.All() {
		out = append(out, &Solver{d: d, sh: sh})
	}
	return out
}

// Name is the solverName of an Issuer's webhook config: the provider's name.
func (s *Solver) Name() string { return s.d.Name }

// Initialize makes the Kubernetes client (and the lock) from cfg, replacing
// those of an earlier call.
func (s *Solver) Initialize(cfg *rest.Config, _ <-chan struct{}) error {
	client, err := s.sh.opts.Client(cfg)
	if err != nil {
		return fmt.Errorf("solver %s: making the Kubernetes client: %w", s.d.Name, err)
	}
	var lock Lock
	if s.sh.opts.Lock != nil {
		if lock, err = s.sh.opts.Lock(client); err != nil {
			return fmt.Errorf("solver %s: %w", s.d.Name, err)
		}
	}
	s.sh.mu.Lock()
	defer s.sh.mu.Unlock()
	s.sh.client, s.sh.lock, s.sh.cache = client, lock, nil
	return nil
}

// Present adds the challenge's TXT value at ResolvedFQDN; presenting a value
// that exists already succeeds without a change.
func (s *Solver) Present(ch *whapi.ChallengeRequest) error {
	return s.do(ch, true)
}

// CleanUp removes the challenge's TXT value, and only it, from
// ResolvedFQDN; a value that is gone already is not an error.
func (s *Solver) CleanUp(ch *whapi.ChallengeRequest) error {
	return s.do(ch, false)
}

func (s *Solver) do(ch *whapi.ChallengeRequest, present bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), s.sh.opts.CallTimeout)
	defer cancel()
	if ch == nil {
		return fmt.Errorf("solver %s: empty challenge request", s.d.Name)
	}
	s.sh.mu.Lock()
	client, lock := s.sh.client, s.sh.lock
	s.sh.mu.Unlock()
	var raw []byte
	if ch.Config != nil {
		raw = ch.Config.Raw
	}
	cfg, err := readConfig(ctx, s.d, raw, ch.ResourceNamespace, client, ch.AllowAmbientCredentials, s.sh.opts.Env)
	if err != nil {
		return err
	}
	prov, err := s.provider(cfg, lock)
	if err != nil {
		return err
	}
	fqdn := ch.ResolvedFQDN
	if strings.TrimSpace(fqdn) == "" {
		fqdn = "_acme-challenge." + strings.TrimPrefix(ch.DNSName, "*.")
	}
	fqdn = zone.Canonical(fqdn)
	z, err := s.zone(ctx, prov, fqdn, ch.ResolvedZone)
	if err != nil {
		return s.explain(cfg, err)
	}
	sv := &dnssolver.Solver{Provider: prov}
	c := dnssolver.Challenge{FQDN: fqdn, Value: ch.Key}
	verb := "removing"
	if present {
		verb = "adding"
	}
	s.sh.opts.Log.Info(verb+" TXT record", "solver", s.d.Name, "name", fqdn, "zone", z, "dnsName", ch.DNSName)
	if present {
		err = sv.Present(ctx, c)
	} else {
		err = sv.Cleanup(ctx, c)
	}
	if err != nil {
		return s.explain(cfg, err)
	}
	return nil
}

// zone returns the account's deepest zone holding fqdn; when cert-manager's
// resolvedZone differs, it says so once in the log and uses the account's.
func (s *Solver) zone(ctx context.Context, prov providers.Provider, fqdn, resolved string) (string, error) {
	zs, err := prov.ListZones(ctx)
	if err != nil {
		return "", fmt.Errorf("listing the %s account's zones: %w", s.d.Name, err)
	}
	names := make([]string, len(zs))
	for i, z := range zs {
		names[i] = zone.Canonical(z.Name)
	}
	best := zone.Longest(fqdn, names)
	if best == "" {
		shown := names
		if len(shown) > 10 {
			shown = append(shown[:10:10], "…")
		}
		return "", fmt.Errorf("no zone of the %s account holds %s (its zones: %s): add the domain to that account, or delegate _acme-challenge with a CNAME into one of its zones and set cnameStrategy: Follow", s.d.Name, fqdn, strings.Join(shown, ", "))
	}
	if r := strings.TrimSpace(resolved); r != "" && zone.Canonical(r) != best {
		s.sh.opts.Log.Info(fmt.Sprintf("cert-manager resolved the zone of %s as %s, but the %s account's deepest zone holding it is %s: using %s (split-horizon DNS?)", fqdn, zone.Canonical(r), s.d.Name, best, best))
	}
	return best, nil
}

// explain adds which Secret to fix to an error whose cause is the
// credential.
func (s *Solver) explain(cfg *config, err error) error {
	switch api.StatusOf(err) {
	case http.StatusUnauthorized, http.StatusForbidden:
	default:
		return fmt.Errorf("solver %s: %w", s.d.Name, err)
	}
	var from []string
	for i := range s.d.Settings {
		st := &s.d.Settings[i]
		switch cfg.sources[st.Key] {
		case fromSecret:
			r := cfg.refs[st.Key]
			from = append(from, fmt.Sprintf("%s (Secret %q, key %q)", ConfigName(st), r.Name, r.Key))
		case fromEnv:
			if st.Secret {
				from = append(from, s.d.EnvName(st)+" of the webhook's environment")
			}
		}
	}
	return fmt.Errorf("solver %s: %s rejected the credentials from %s: correct them: %w", s.d.Name, s.d.Title, strings.Join(from, " and "), err)
}

// provider returns the provider for cfg's settings: the same one for the
// same settings, so that concurrent challenges share its zone engine (one
// read and one write for many records) and its cached zone list.
func (s *Solver) provider(cfg *config, lock Lock) (providers.Provider, error) {
	h := sha256.New()
	h.Write([]byte(s.d.Name))
	for _, k := range s.d.Keys() {
		v := s.d.Value(cfg.provider, k)
		fmt.Fprintf(h, "\x00%d:%s", len(v), v)
	}
	key := hex.EncodeToString(h.Sum(nil))
	s.sh.mu.Lock()
	defer s.sh.mu.Unlock()
	if p, ok := s.sh.cache[key]; ok {
		return p, nil
	}
	p, err := providers.Configure(cfg.provider, providers.Options{HTTPClient: s.sh.opts.HTTPClient, Lock: lock})
	if err != nil {
		return nil, fmt.Errorf("solver %s: %w", s.d.Name, err)
	}
	if s.sh.cache == nil || len(s.sh.cache) >= 64 {
		s.sh.cache = map[string]providers.Provider{}
	}
	s.sh.cache[key] = p
	return p, nil
}
