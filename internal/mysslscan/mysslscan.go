// Package mysslscan has MySSL (myssl.info) check hosts from the outside
// after a certificate is deployed, and reads the grades it gives: the
// settings (one [Descriptor] for the hook's environment, --help, README and
// the Caddy event handler), the scan-and-wait logic every surface shares
// ([Scanner]), and the host names a deploy hook is handed ([Targets],
// [CertificateNames]).
//
// MySSL is not a DNS provider: it hosts no challenge record, so it is not
// registered among the providers (package providers) and is combined with
// one of them. It is experimental: the calls that report a scan's result
// and add a monitored domain are not confirmed by MySSL's documentation
// (see package myssl).
package mysslscan

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/acme-dns-hook/acme-dns-hook/internal/api"
	"github.com/acme-dns-hook/acme-dns-hook/internal/api/myssl"
	"github.com/acme-dns-hook/acme-dns-hook/internal/dnsname"
	"github.com/acme-dns-hook/acme-dns-hook/internal/settings"
)

// Config is what the MySSL settings configure; its JSON keys are the
// settings' keys (and the Caddy handler's fields).
type Config struct {
	APIKey   string `json:"api_key,omitempty"`
	APIURL   string `json:"api_url,omitempty"`
	MinGrade string `json:"min_grade,omitempty"`
	Wait     int    `json:"wait,omitempty"`
	ScanType string `json:"scan_type,omitempty"`
	Monitor  bool   `json:"monitor,omitempty"`
}

// DefaultWait is how long results are waited for in all when a minimum
// grade is set without a wait, and how long a scan may take before the
// next one starts (one scan at a time): less than the two minutes lego
// gives a hook.
const DefaultWait = 90 * time.Second

// Descriptor declares the MySSL settings once. It is not registered among
// the DNS providers.
var Descriptor = &settings.Descriptor{
	Name:         "myssl",
	Title:        "MySSL",
	Experimental: true,
	Env:          "MYSSL_",
	Short:        "api_key",
	Settings: []settings.Setting{
		{Key: "api_key", Kind: settings.Text, Secret: true, Required: true, Format: checkKey,
			Help: "an API key from MySSL (Dashboard → Settings → API Keys → Create New API Key; it starts with " + myssl.KeyPrefix + ")"},
		{Key: "api_url", Kind: settings.Text, Format: api.CheckURL, Default: myssl.DefaultURL,
			Help: "the API root"},
		{Key: "min_grade", Kind: settings.Text, Choices: myssl.Grades,
			Help: "the lowest acceptable grade: a host graded below it, or whose grade cannot be read, is reported as failed (results are then waited for)"},
		{Key: "wait", Kind: settings.Seconds, Min: 1, Max: 3600,
			Help: "how long to wait for the scan results in all (unset: 90 seconds with min_grade, else no waiting)"},
		{Key: "scan_type", Kind: settings.Text, Choices: myssl.ScanTypes, Default: "quick",
			Help: "the scan: quick checks the certificate chain, protocols and ciphers, full adds known vulnerabilities"},
		{Key: "monitor", Kind: settings.Bool,
			Help: "also add a scanned host MySSL does not watch yet to its monitored domains (POST /api/v1/domains, a call MySSL does not confirm)"},
	},
	New: func() any { return new(Config) },
}

func init() {
	if err := Descriptor.Bind(); err != nil {
		panic(err)
	}
}

func checkKey(k string) error {
	if !strings.HasPrefix(k, myssl.KeyPrefix) || len(k) == len(myssl.KeyPrefix) {
		return errors.New("MySSL API keys start with " + myssl.KeyPrefix + " (create one under Dashboard → Settings → API Keys)")
	}
	return nil
}

// InEnv reports whether the MySSL key is set in env (MYSSL_API_KEY or
// MYSSL_API_KEY_FILE): without it, the deploy hooks do nothing.
func InEnv(env settings.Env) bool { return Descriptor.InEnv(env) }

// FromEnv reads and checks the settings from env. Errors name the variable
// and never hold the key.
func FromEnv(env settings.Env) (*Config, error) {
	c, err := Descriptor.FromEnv(env)
	if err != nil {
		return nil, err
	}
	return c.(*Config), nil
}

// Secrets returns the secret values set in env, for redaction.
func Secrets(env settings.Env) []string { return Descriptor.EnvSecrets(env) }

// Check applies the descriptor's rules to c, naming settings by key.
func (c *Config) Check() error { return Descriptor.Check(c, settings.Keys, nil) }

// Client returns a MySSL client for c.
func (c *Config) Client(hc *http.Client) (*myssl.Client, error) {
	return myssl.New(c.APIKey, myssl.Options{BaseURL: c.APIURL, HTTPClient: hc})
}

// WaitBudget is how long to wait for results in all: Wait, or DefaultWait
// when a minimum grade is set, else 0 (no waiting).
func (c *Config) WaitBudget() time.Duration {
	switch {
	case c.Wait > 0:
		return time.Duration(c.Wait) * time.Second
	case c.MinGrade != "":
		return DefaultWait
	}
	return 0
}

// Help describes the settings as --help shows them.
func Help() string {
	var b strings.Builder
	for i := range Descriptor.Settings {
		s := &Descriptor.Settings[i]
		fmt.Fprintf(&b, "  %-30s %s\n", Descriptor.EnvName(s), s.Describe())
	}
	return b.String()
}

// Table is README's table of the settings, in Markdown.
func Table() string {
	var b strings.Builder
	b.WriteString("| variable (also `_FILE`) | Caddy field (`events.handlers.myssl`) | meaning |\n|---|---|---|\n")
	for i := range Descriptor.Settings {
		s := &Descriptor.Settings[i]
		meaning := s.Describe()
		if s.Secret {
			meaning += "; secret: never printed"
		}
		fmt.Fprintf(&b, "| `%s` | `%s` | %s |\n", Descriptor.EnvName(s), s.Key, meaning)
	}
	return b.String()
}

// Target is a host and port to scan.
type Target struct {
	Host string // a DNS name in ASCII, lower case, no trailing dot
	Port int
}

func (t Target) String() string { return net.JoinHostPort(t.Host, strconv.Itoa(t.Port)) }

// ParseTarget reads HOST or HOST:PORT (port 443 when absent). A wildcard
// name is refused: it is no host to connect to.
func ParseTarget(s string) (Target, error) {
	host, port := s, 443
	if h, p, err := net.SplitHostPort(s); err == nil {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return Target{}, fmt.Errorf("%q: the port must be a number from 1 to 65535", s)
		}
		host, port = h, n
	}
	if strings.HasPrefix(host, "*.") {
		return Target{}, fmt.Errorf("%q is a wildcard name, no host MySSL can connect to: scan a host under it", s)
	}
	name, err := dnsname.Name(host)
	if err != nil {
		return Target{}, err
	}
	return Target{Host: strings.TrimSuffix(name, "."), Port: port}, nil
}

// Targets turns the names of a certificate into targets on port 443, each
// once. Wildcard names are skipped (they name no host); skipped says why
// for each name left out.
func Targets(names []string) (targets []Target, skipped []string) {
	for _, n := range names {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		t, err := ParseTarget(n)
		if err != nil {
			skipped = append(skipped, err.Error())
			continue
		}
		if !slices.Contains(targets, t) {
			targets = append(targets, t)
		}
	}
	return targets, skipped
}

// CertificateNames returns the DNS names of the first certificate in the
// PEM file at path (the leaf of a chain).
func CertificateNames(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, fmt.Errorf("%s holds no PEM certificate", path)
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return c.DNSNames, nil
	}
}

// Source says where a result was read.
type Source string

const (
	// SourceScan is the scan itself, GET /api/v1/scans/{id} (a path
	// MySSL's documentation does not confirm).
	SourceScan Source = "scan-status"
	// SourceDomains is the host's monitored domain, GET /api/v1/domains
	// (confirmed), once its last scan is newer than the scan's start.
	SourceDomains Source = "domain-listing"
)

// Result is what became of one target.
type Result struct {
	Target Target
	ScanID string // "" when no scan started
	Status string // the scan's last known status
	// Finished is set when the scan's result was read; Grade and the rest
	// are set from it, where MySSL gave them.
	Finished bool
	Grade    string
	Score    *int
	Expiry   time.Time
	Issuer   string
	Source   Source
	// Err says why the scan did not start or its result was not read.
	Err error

	domain   *myssl.Domain // the monitored domain, if any
	before   time.Time     // its last scan before this one
	accepted time.Time     // when MySSL accepted the scan
}

var plain = regexp.MustCompile(`^[A-Za-z0-9+._:-]+$`)

// token writes v as is when it is plain, else quoted (text from the API
// never reaches a terminal raw).
func token(v string) string {
	if plain.MatchString(v) {
		return v
	}
	return strconv.Quote(v)
}

// Line is the result as one line: the target, then key=value fields
// (grade, score, expires, issuer, source, scan, status, error), each
// present only when known.
func (r Result) Line() string {
	var b strings.Builder
	b.WriteString(r.Target.String())
	if r.Grade != "" {
		b.WriteString(" grade=" + token(r.Grade))
	}
	if r.Score != nil {
		fmt.Fprintf(&b, " score=%d", *r.Score)
	}
	if !r.Expiry.IsZero() {
		b.WriteString(" expires=" + r.Expiry.UTC().Format(time.RFC3339))
	}
	if r.Issuer != "" {
		b.WriteString(" issuer=" + strconv.Quote(r.Issuer))
	}
	if r.Source != "" {
		b.WriteString(" source=" + string(r.Source))
	}
	if r.ScanID != "" {
		b.WriteString(" scan=" + token(r.ScanID))
	}
	if !r.Finished && r.Err == nil && r.Status != "" {
		b.WriteString(" status=" + token(r.Status) + " (result not waited for)")
	}
	if r.Err != nil {
		b.WriteString(" error=" + strconv.Quote(r.Err.Error()))
	}
	return b.String()
}

// Check says what is wrong with r given a minimum grade ("" for none): the
// scan's error; with a minimum, a grade below it or no grade that can be
// compared.
func (r Result) Check(minGrade string) error {
	if r.Err != nil {
		return fmt.Errorf("%s: %w", r.Target, r.Err)
	}
	if minGrade == "" {
		return nil
	}
	if r.Grade == "" {
		return fmt.Errorf("%s: no grade could be read, and at least %s is required", r.Target, minGrade)
	}
	ok, known := myssl.GradeAtLeast(r.Grade, minGrade)
	switch {
	case !known:
		return fmt.Errorf("%s: grade %s cannot be compared with the minimum %s", r.Target, token(r.Grade), minGrade)
	case !ok:
		return fmt.Errorf("%s: graded %s, below the minimum %s", r.Target, token(r.Grade), minGrade)
	}
	return nil
}

// Scanner starts scans and reads their results.
type Scanner struct {
	Client   *myssl.Client
	ScanType string // quick (default) or full
	// Monitor adds a host MySSL does not watch to its monitored domains
	// before scanning it (an unconfirmed call; when MySSL lacks it, the
	// host is scanned by name).
	Monitor bool
	// Parallel is how many scans may run at once; 0 means 1, the Free
	// plan's limit. A scan starts only when an earlier one is seen to have
	// finished, if that would exceed it.
	Parallel int
	// Wait bounds the waiting in all: for the results, and for earlier
	// scans to finish before later ones start. 0 means the last scans'
	// results are not waited for (and DefaultWait bounds the waits for a
	// free slot).
	Wait time.Duration
	// Interval is the time between reads of a pending scan; default 10 s
	// (MySSL's Free plan allows 10 requests a minute).
	Interval time.Duration
	// Log receives progress lines; nil means none.
	Log func(string)

	noStatus atomic.Bool // the scan-status path answered 404
}

func (s *Scanner) log(format string, args ...any) {
	if s.Log != nil {
		s.Log(fmt.Sprintf(format, args...))
	}
}

// Scan scans targets, at most Parallel at a time, in order, and returns one
// result per target in the same order. It returns when every scan has
// started and every result waited for has been read, or the wait is over.
func (s *Scanner) Scan(ctx context.Context, targets []Target) []Result {
	results := make([]Result, len(targets))
	budget := s.Wait
	if budget <= 0 {
		budget = DefaultWait
	}
	wctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	par := max(s.Parallel, 1)
	var next atomic.Int64
	started := make([]bool, len(targets))
	var wg sync.WaitGroup
	for range min(par, len(targets)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(targets) {
					return
				}
				started[i] = true
				r := &results[i]
				*r = s.start(wctx, targets[i])
				if r.Err != nil {
					continue // nothing runs: the slot is free
				}
				if s.Wait <= 0 && int(next.Load()) >= len(targets) {
					return // no later scan needs the slot, no result is waited for
				}
				s.await(wctx, r, budget)
				if !r.Finished && r.Err != nil && r.ScanID != "" {
					// The scan may still run: its slot stays taken.
					return
				}
			}
		})
	}
	wg.Wait()
	for i := range results {
		if !started[i] {
			results[i] = Result{Target: targets[i], Err: fmt.Errorf("not scanned: an earlier scan was not seen to finish, and MySSL's plan allows %d scan(s) at once (the Free plan one; raise it with --parallel)", par)}
		}
	}
	return results
}

// start looks the target up among the monitored domains (adding it if
// asked) and starts its scan.
func (s *Scanner) start(ctx context.Context, t Target) Result {
	r := Result{Target: t}
	d, err := s.Client.FindDomain(ctx, t.Host, t.Port)
	if err != nil {
		r.Err = fmt.Errorf("looking for it among the monitored domains: %w", err)
		return r
	}
	if d == nil && s.Monitor {
		d, err = s.Client.AddDomain(ctx, t.Host, t.Port)
		switch {
		case errors.Is(err, myssl.ErrNoCreateDomain):
			s.log("%s: not added to the monitored domains: POST /api/v1/domains answered %d (MySSL does not confirm that call); scanning it by name", t, api.StatusOf(err))
			d = nil
		case err != nil:
			r.Err = fmt.Errorf("adding it to the monitored domains: %w", err)
			return r
		default:
			s.log("%s: added to MySSL's monitored domains (id %s)", t, d.ID)
		}
	}
	req := myssl.ScanRequest{ScanType: s.ScanType}
	if d != nil {
		req.DomainID = d.ID
		r.domain, r.before = d, d.LastScan
	} else {
		req.Hostname, req.Port = t.Host, t.Port
	}
	local := time.Now()
	sc, err := s.Client.StartScan(ctx, req)
	if err != nil {
		r.Err = fmt.Errorf("starting the scan: %w", err)
		return r
	}
	r.ScanID, r.Status, r.accepted = sc.ID, sc.Status, sc.Accepted
	if r.accepted.IsZero() {
		r.accepted = local
	}
	s.log("%s: scan %s started (%s)", t, token(sc.ID), token(sc.Status))
	return r
}

// await reads r's result until it is there, the scan failed, or ctx ends.
func (s *Scanner) await(ctx context.Context, r *Result, budget time.Duration) {
	interval := s.Interval
	if interval <= 0 {
		interval = 10 * time.Second
	}
	for {
		if !s.noStatus.Load() {
			sc, err := s.Client.GetScan(ctx, r.ScanID)
			switch {
			case errors.Is(err, myssl.ErrNoScanStatus):
				if !s.noStatus.Swap(true) {
					s.log("MySSL has no scan-status path (GET /api/v1/scans/{id} answered %d): reading grades from the monitored domains once their last scan is newer than the scan's start", api.StatusOf(err))
				}
				continue
			case err != nil:
				r.Err = s.waitErr(ctx, r, budget, err)
				return
			case sc.Done():
				r.Finished, r.Source, r.Status = true, SourceScan, sc.Status
				r.Grade, r.Score, r.Expiry, r.Issuer = sc.Grade, sc.Score, sc.CertificateExpiry, sc.Issuer
				if sc.Failed() {
					why := sc.Error
					if why == "" {
						why = "no reason given"
					}
					r.Err = fmt.Errorf("scan %s %s: %s", token(r.ScanID), token(sc.Status), why)
				}
				return
			}
			r.Status = sc.Status
		} else {
			d, err := s.Client.FindDomain(ctx, r.Target.Host, r.Target.Port)
			if err != nil {
				r.Err = s.waitErr(ctx, r, budget, err)
				return
			}
			if d == nil {
				r.Err = fmt.Errorf("scan %s started, but its grade cannot be read: MySSL's scan-status path is not available and %s is not among the monitored domains (MYSSL_MONITOR=true or --monitor adds it where MySSL allows)", token(r.ScanID), r.Target)
				return
			}
			if fresh(d.LastScan, r.before, r.accepted) {
				r.Finished, r.Source, r.Status = true, SourceDomains, "completed"
				r.Grade, r.Score, r.Expiry = d.Grade, d.Score, d.CertificateExpiry
				if one, err := s.Client.GetDomain(ctx, d.ID); err == nil {
					r.Issuer = one.Issuer // the listing has no issuer
				}
				return
			}
		}
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			r.Err = s.waitErr(ctx, r, budget, ctx.Err())
			return
		case <-t.C:
		}
	}
}

// fresh reports whether a monitored domain's last scan, at last, is the
// scan MySSL accepted at accepted: newer than the last scan before it,
// and not older than its start (MySSL's times are whole seconds).
func fresh(last, before, accepted time.Time) bool {
	return !last.IsZero() && last.After(before) && !last.Before(accepted.Truncate(time.Second))
}

// waitErr words a wait that ended without a result.
func (s *Scanner) waitErr(ctx context.Context, r *Result, budget time.Duration, err error) error {
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("no result within %s: scan %s is still %s", budget, token(r.ScanID), token(r.Status))
	case ctx.Err() != nil:
		return fmt.Errorf("stopped waiting (%v): scan %s is still %s", ctx.Err(), token(r.ScanID), token(r.Status))
	}
	return fmt.Errorf("reading the result of scan %s: %w", token(r.ScanID), err)
}
