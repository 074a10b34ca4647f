// Command acme-dns-hook answers ACME DNS-01 challenges at your DNS hosting
// provider for every ACME client: lego (exec and httpreq), Traefik, certbot,
// dehydrated and acme.sh-style scripts. Run it with --help for the calls it
// understands and the environment it reads.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/libdns/libdns"

	"github.com/acme-dns-hook/acme-dns-hook/internal/filelock"
	"github.com/acme-dns-hook/acme-dns-hook/internal/mysslscan"
	"github.com/acme-dns-hook/acme-dns-hook/internal/propagation"
	"github.com/acme-dns-hook/acme-dns-hook/internal/providers"
	"github.com/acme-dns-hook/acme-dns-hook/internal/redact"
	"github.com/acme-dns-hook/acme-dns-hook/internal/settings"
	"github.com/acme-dns-hook/acme-dns-hook/internal/solver"
	"github.com/acme-dns-hook/acme-dns-hook/internal/version"
)

const usage = `acme-dns-hook solves ACME DNS-01 challenges at your DNS provider.

Usage: acme-dns-hook [--provider NAME[,NAME...]] COMMAND [ARGS]

ACME client calls:
  present FQDN VALUE | cleanup FQDN VALUE       lego --dns exec
  present -- DOMAIN TOKEN KEYAUTH               lego --dns exec with EXEC_MODE=RAW (also cleanup)
  certbot-auth | certbot-cleanup                certbot --manual hooks (CERTBOT_DOMAIN, CERTBOT_VALIDATION);
                                                with no command at all when CERTBOT_DOMAIN is set
  deploy_challenge DOMAIN TOKENFILE VALUE [...]  dehydrated hook (also clean_challenge; other hooks: no-op)
  add FQDN VALUE | rm FQDN VALUE                acme.sh-style scripts and cron jobs
  serve [--listen 127.0.0.1:8080]               HTTP endpoint for lego --dns httpreq and Traefik

For people:
  zones            list the zones of every account
  records ZONE     list a zone's records
  check            verify that each provider's credentials work
  sweep [--older-than 24h] [--dry-run]
                   remove the challenge values of hook processes that died before present
                   finished (and, with --older-than, those never cleaned up); never others
  --help, --version

Provider: --provider NAME or ACME_HOOK_PROVIDER (%s), or several
separated by commas; when unset, every provider whose credentials are set.
With several, each name goes to the account holding the longest zone that
contains it (after following CNAMEs).
%s
Common settings:
  ACME_HOOK_RESOLVERS            host:port,... to check propagation on, instead of the zone's authoritative servers
  ACME_HOOK_WAIT                 false: return right after the API call (default true; serve: false)
  ACME_HOOK_FOLLOW_CNAME         false: write at _acme-challenge.<domain> even when it is a CNAME (default true:
                                 write at the end of its CNAME chain, asked of the authoritative servers or ACME_HOOK_RESOLVERS)
  ACME_HOOK_PROPAGATION_TIMEOUT  seconds to wait for DNS after present (default 120)
  ACME_HOOK_POLLING_INTERVAL     seconds between DNS checks (default 2)
  ACME_HOOK_LOCK_DIR             directory for cross-process zone locks (default %s)
  ACME_HOOK_LOCK_TIMEOUT         seconds to wait for a zone lock another process holds (default 120)
  ACME_HOOK_ZONE_CACHE           seconds to reuse an account's zone list, kept beside the locks (default 60; 0: off;
                                 no file holds a credential; off with ACME_HOOK_LOCK_DIR=off or a directory others may read)
  ACME_HOOK_SERVE_USERNAME, ACME_HOOK_SERVE_PASSWORD   HTTP Basic credentials serve requires
Every setting can also be read from a file named by NAME_FILE.
`

// dehydratedHooks are the hook names dehydrated calls that need no action
// (deploy_cert asks MySSL for a scan, see myssl.go).
var dehydratedHooks = []string{
	"deploy_ocsp", "unchanged_cert", "invalid_challenge", "request_failure",
	"generate_csr", "startup_hook", "exit_hook", "sync_cert",
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], settings.OSEnv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// failure is an error that comes with its exit code (2 for usage errors).
type failure struct {
	code int
	err  error
}

func (f failure) Error() string { return f.err.Error() }
func (f failure) Unwrap() error { return f.err }

func usageErr(format string, args ...any) error {
	return failure{2, fmt.Errorf(format+" (see acme-dns-hook --help)", args...)}
}

// run executes one invocation and returns the exit code. Errors are printed
// as one line on stderr with every known secret removed.
func run(ctx context.Context, args []string, env settings.Env, stdout, stderr io.Writer) int {
	stderr = &lockedWriter{w: stderr} // progress lines come from concurrent waits
	err := dispatch(ctx, args, env, stdout, stderr)
	if err == nil {
		return 0
	}
	secrets := append(append(providers.Secrets(env), serveSecrets(env)...), mysslscan.Secrets(env)...)
	msg := strings.ReplaceAll(redact.String(err.Error(), secrets...), "\n", "; ")
	fmt.Fprintln(stderr, "acme-dns-hook: "+msg)
	var f failure
	if errors.As(err, &f) {
		return f.code
	}
	return 1
}

func dispatch(ctx context.Context, args []string, env settings.Env, stdout, stderr io.Writer) error {
	var flagProvider string
	for len(args) > 0 && strings.HasPrefix(args[0], "-") && args[0] != "--" {
		switch a := args[0]; {
		case a == "-h" || a == "--help" || a == "help":
			fmt.Fprintf(stdout, usage, strings.Join(providers.Names(), ", "), providers.Help(), filelock.DefaultDir())
			fmt.Fprint(stdout, mysslHelp())
			return nil
		case a == "--version" || a == "-version":
			fmt.Fprintln(stdout, "acme-dns-hook", version.Version)
			return nil
		case a == "--provider" && len(args) > 1:
			flagProvider, args = args[1], args[1:]
		case strings.HasPrefix(a, "--provider="):
			flagProvider = strings.TrimPrefix(a, "--provider=")
		default:
			return usageErr("unknown option %s", a)
		}
		args = args[1:]
	}
	if len(args) == 0 {
		if env.Has("CERTBOT_DOMAIN") {
			if _, isCleanup := env("CERTBOT_AUTH_OUTPUT"); isCleanup {
				args = []string{"certbot-cleanup"}
			} else {
				args = []string{"certbot-auth"}
			}
		} else {
			return usageErr("no command given")
		}
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "myssl": // not a DNS provider: no provider is selected
		return mysslCommand(ctx, rest, env, stdout, stderr)
	case "deploy_cert":
		return mysslDeployCert(ctx, rest, env, stdout, stderr)
	}
	if slices.Contains(dehydratedHooks, cmd) || strings.HasPrefix(cmd, "this_hookscript_is_broken") {
		return nil
	}
	if cmd == "help" {
		return dispatch(ctx, []string{"--help"}, env, stdout, stderr)
	}
	if !slices.Contains([]string{"present", "cleanup", "certbot-auth", "certbot-cleanup", "deploy_challenge",
		"clean_challenge", "add", "rm", "serve", "zones", "records", "check", "sweep"}, cmd) {
		return usageErr("unknown command %q", cmd)
	}

	// Parse the arguments before touching the provider: bad input changes nothing.
	var chs []solver.Challenge
	var err error
	switch cmd {
	case "present", "cleanup":
		chs, err = legoArgs(cmd, rest, env)
	case "add", "rm":
		if len(rest) != 2 {
			return usageErr("%s needs FQDN VALUE", cmd)
		}
		chs = []solver.Challenge{{FQDN: rest[0], Value: rest[1]}}
	case "certbot-auth", "certbot-cleanup":
		domain, _ := env.Get("CERTBOT_DOMAIN")
		value, _ := env.Get("CERTBOT_VALIDATION")
		if domain == "" || value == "" {
			return usageErr("%s needs CERTBOT_DOMAIN and CERTBOT_VALIDATION in the environment (certbot sets them)", cmd)
		}
		chs = []solver.Challenge{solver.ForDomain(domain, value)}
	case "deploy_challenge", "clean_challenge":
		if len(rest) == 0 || len(rest)%3 != 0 {
			return usageErr("%s needs DOMAIN TOKENFILE VALUE triples, got %d arguments", cmd, len(rest))
		}
		for i := 0; i < len(rest); i += 3 {
			chs = append(chs, solver.ForDomain(rest[i], rest[i+2]))
		}
	case "records":
		if len(rest) != 1 {
			return usageErr("records needs ZONE")
		}
	case "serve", "sweep":
		// parsed by serve and sweep
	default:
		if len(rest) != 0 {
			return usageErr("%s takes no arguments", cmd)
		}
	}
	if err != nil {
		return err
	}
	if err := checkInput(ctx, cmd, chs, rest, env); err != nil {
		return err
	}

	specs, err := providers.Select(flagProvider, env)
	if err != nil {
		return failure{2, err}
	}
	// zones and check list the accounts' zones themselves: never from the cache.
	s, err := newSolver(specs, env, cmd == "serve", cmd != "zones" && cmd != "check", stderr)
	if err != nil {
		return failure{2, err}
	}

	switch cmd {
	case "present", "add", "certbot-auth", "deploy_challenge":
		return present(ctx, s, env, chs)
	case "cleanup", "rm", "certbot-cleanup", "clean_challenge":
		return cleanup(ctx, s, env, chs)
	case "sweep":
		return sweep(ctx, s, env, rest, stdout)
	case "serve":
		return serve(ctx, rest, env, s, stderr)
	case "zones":
		return zones(ctx, s.Provider.(*providers.Set), stdout)
	case "records":
		return records(ctx, s, rest[0], stdout)
	case "check":
		return check(ctx, s.Provider.(*providers.Set), stdout)
	}
	return nil
}

// zones lists the zones of every account, one a line; with several
// accounts, each followed by a tab and the account's provider name.
func zones(ctx context.Context, set *providers.Set, stdout io.Writer) error {
	accounts := set.Accounts()
	lists := make([][]libdns.Zone, len(accounts))
	errs := make([]error, len(accounts))
	var wg sync.WaitGroup
	for i, a := range accounts {
		wg.Go(func() {
			if lists[i], errs[i] = a.Provider.ListZones(ctx); errs[i] != nil && len(accounts) > 1 {
				errs[i] = fmt.Errorf("%s: %w", a.Descriptor.Title, errs[i])
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for i, a := range accounts {
		for _, z := range lists[i] {
			if len(accounts) == 1 {
				fmt.Fprintln(stdout, z.Name)
			} else {
				fmt.Fprintf(stdout, "%s\t%s\n", z.Name, a.Descriptor.Name)
			}
		}
	}
	return nil
}

// check lists each account's zones to see whether its credentials work; it
// checks every account and fails if one fails.
func check(ctx context.Context, set *providers.Set, stdout io.Writer) error {
	accounts := set.Accounts()
	lines := make([]string, len(accounts))
	errs := make([]error, len(accounts))
	var wg sync.WaitGroup
	for i, a := range accounts {
		wg.Go(func() {
			zs, err := a.Provider.ListZones(ctx)
			if err != nil {
				errs[i] = fmt.Errorf("%s credentials do not work: %w", a.Descriptor.Title, err)
				return
			}
			lines[i] = fmt.Sprintf("%s credentials work: %d zone(s) in the account", a.Descriptor.Title, len(zs))
		})
	}
	wg.Wait()
	for _, l := range lines {
		if l != "" {
			fmt.Fprintln(stdout, l)
		}
	}
	return errors.Join(errs...)
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// legoArgs reads lego exec's arguments: FQDN VALUE (extra arguments such as
// an old lego's TTL are ignored), or, in RAW mode, -- DOMAIN TOKEN KEYAUTH.
func legoArgs(cmd string, rest []string, env settings.Env) ([]solver.Challenge, error) {
	mode, _ := env.Get("EXEC_MODE")
	if len(rest) > 0 && rest[0] == "--" || strings.EqualFold(mode, "RAW") {
		rest = slices.DeleteFunc(slices.Clone(rest), func(a string) bool { return a == "--" })
		if len(rest) != 3 {
			return nil, usageErr("%s in RAW mode needs -- DOMAIN TOKEN KEYAUTH", cmd)
		}
		return []solver.Challenge{solver.FromKeyAuth(rest[0], rest[2])}, nil
	}
	if len(rest) < 2 {
		return nil, usageErr("%s needs FQDN VALUE", cmd)
	}
	return []solver.Challenge{{FQDN: rest[0], Value: rest[1]}}, nil
}

// defaultLockTimeout is how long a hook waits for a zone lock another
// process holds, in seconds: the default propagation timeout, since a
// holder that takes longer than a whole present is stuck.
const defaultLockTimeout = 120

// newSolver builds the providers (one providers.Set over every account),
// the CNAME follower and the propagation check from env. With cached, each
// account's zone list is kept beside the lock files (see zoneCache).
func newSolver(specs []*settings.Descriptor, env settings.Env, serving, cached bool, stderr io.Writer) (*solver.Solver, error) {
	lockDir, err := env.Get("ACME_HOOK_LOCK_DIR")
	if err != nil {
		return nil, err
	}
	if lockDir == "" {
		lockDir = filelock.DefaultDir()
	}
	lockTimeout, err := env.Seconds("ACME_HOOK_LOCK_TIMEOUT", 1, 86400)
	if err != nil {
		return nil, err
	}
	if lockTimeout == 0 {
		lockTimeout = defaultLockTimeout
	}
	// Each hook process submits one change at a time: no group-commit wait.
	// serve answers concurrent clients, so it keeps the engine's default.
	opts := providers.Options{}
	if !serving {
		opts.GroupWindow = -1
	}
	if lockDir != "off" {
		if err := filelock.Prepare(lockDir); err != nil {
			return nil, fmt.Errorf("ACME_HOOK_LOCK_DIR: %w", err)
		}
		lo := filelock.Options{
			Timeout: time.Duration(lockTimeout) * time.Second,
			Waiting: func(h filelock.Holder) {
				fmt.Fprintf(stderr, "acme-dns-hook: waiting up to %ds for the zone lock held by %s\n", lockTimeout, h)
			},
		}
		opts.Lock = func(ctx context.Context, key string) (func(), error) { return filelock.LockWith(ctx, lockDir, key, lo) }
	}
	cacheFor, err := zoneCacheSeconds(env)
	if err != nil {
		return nil, err
	}
	var caches *zoneCaches
	if cached {
		caches = newZoneCaches(lockDir, cacheFor)
	}
	var accounts []providers.Account
	for _, spec := range specs {
		o := opts
		if c := caches.forAccount(spec, env); c != nil {
			o.ZoneList = c
		}
		p, err := providers.New(spec, env, o)
		if err != nil {
			return nil, err
		}
		accounts = append(accounts, providers.Account{Descriptor: spec, Provider: p})
	}
	set := providers.NewSet(accounts...)
	s := &solver.Solver{Provider: set}
	if caches != nil {
		s.Provider = relisting{Set: set, caches: caches}
	}
	if !serving { // serve logs one line per request
		s.Log = func(line string) { fmt.Fprintln(stderr, "acme-dns-hook: "+line) }
	}
	var resolvers []string
	if v, err := env.Get("ACME_HOOK_RESOLVERS"); err != nil {
		return nil, err
	} else if v != "" {
		if resolvers, err = propagation.ParseResolvers(v); err != nil {
			return nil, fmt.Errorf("ACME_HOOK_RESOLVERS: %w", err)
		}
	}
	follow, err := env.Bool("ACME_HOOK_FOLLOW_CNAME", true)
	if err != nil {
		return nil, err
	}
	if follow {
		s.Aliases = aliases{&propagation.Follower{Resolvers: resolvers}}
	}
	wait, err := env.Bool("ACME_HOOK_WAIT", !serving)
	if err != nil || !wait {
		return s, err
	}
	c := &propagation.Checker{Progress: stderr, Resolvers: resolvers}
	timeout, err := env.Seconds("ACME_HOOK_PROPAGATION_TIMEOUT", 1, 86400)
	if err != nil {
		return nil, err
	}
	interval, err := env.Seconds("ACME_HOOK_POLLING_INTERVAL", 1, 3600)
	if err != nil {
		return nil, err
	}
	c.Timeout, c.Interval = time.Duration(timeout)*time.Second, time.Duration(interval)*time.Second
	s.Waiter = c
	return s, nil
}

// aliases is the CNAME follower with the way out of a chain it cannot
// follow added to its errors.
type aliases struct{ f *propagation.Follower }

func (a aliases) Follow(ctx context.Context, name string) (string, []string, error) {
	end, chain, err := a.f.Follow(ctx, name)
	if err != nil && len(chain) > 0 {
		err = fmt.Errorf("%w (ACME_HOOK_FOLLOW_CNAME=false writes at %s itself)", err, chain[0])
	}
	return end, chain, err
}

func records(ctx context.Context, s *solver.Solver, zone string, stdout io.Writer) error {
	z, err := s.Zone(ctx, zone)
	if err != nil {
		return err
	}
	recs, err := s.Provider.(providers.Provider).GetRecords(ctx, z)
	if err != nil {
		return err
	}
	for _, r := range recs {
		rr := r.RR()
		fmt.Fprintf(stdout, "%-30s %6d %-6s %s\n", rr.Name, int(rr.TTL.Seconds()), rr.Type, rr.Data)
	}
	return nil
}
