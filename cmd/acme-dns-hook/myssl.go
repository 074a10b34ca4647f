package main

// The MySSL commands: `myssl scan` and `myssl domains`, and dehydrated's
// deploy_cert hook. MySSL (myssl.info) is not a DNS provider: these
// commands never touch DNS, and need no provider's credentials.
//
// Exit status, by caller:
//
//	myssl scan HOST…          0 when every scan started (and, with a minimum grade, graded at
//	                          least that); 1 when one failed or graded below; 2 bad usage or settings
//	certbot --deploy-hook     as above: certbot only logs a deploy hook's failure, and keeps the
//	  (myssl scan, no HOST)   certificate and its own exit status 0
//	lego --run-hook,          always 0, every problem on stderr as a warning: lego exits 1 when its
//	  --renew-hook            hook fails, which would mark a run as failed that obtained and saved
//	  (myssl scan, no HOST)   its certificate
//	dehydrated deploy_cert    always 0, likewise: dehydrated stops at a failing deploy_cert, before
//	                          the certificates after it; a no-op when MYSSL_API_KEY is unset

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/acme-dns-hook/acme-dns-hook/internal/api/myssl"
	"github.com/acme-dns-hook/acme-dns-hook/internal/mysslscan"
	"github.com/acme-dns-hook/acme-dns-hook/internal/settings"
)

// mysslHelp is the MySSL part of --help.
func mysslHelp() string {
	return `
After issuance (MySSL, myssl.info; experimental; not a DNS provider, it hosts no record):
  myssl scan [OPTIONS] HOST[:PORT]...   ask MySSL to scan each host, one at a time; print one line per host
                                        (grade, score, expiry, issuer, and where they were read)
    --wait[=DURATION]                   wait for the results, in all at most DURATION (default MYSSL_WAIT or 90s)
    --min-grade G                       fail when a host grades below G or no grade can be read (implies --wait)
    --type quick|full  --parallel N  --monitor  --interval DURATION (between reads, default 10s)
  myssl scan [OPTIONS]                  as certbot --deploy-hook (RENEWED_DOMAINS) or lego --run-hook/--renew-hook
                                        (LEGO_CERT_PATH, LEGO_CERT_DOMAIN): scans the certificate's names
  myssl domains [--status S] [--grade G] [--search TEXT]   list the domains MySSL watches
  deploy_cert DOMAIN KEY CERT ...       dehydrated: scans the certificate's names when MYSSL_API_KEY is set
A failed or low-graded scan never touches the certificate; as a deploy hook of lego or dehydrated it
is a warning and the exit status stays 0. MySSL settings:
` + mysslscan.Help()
}

// hookCaller is the ACME client that ran `myssl scan` without hosts, or
// dehydrated's deploy_cert; "" when a person named the hosts.
type hookCaller string

const (
	callerPerson     hookCaller = ""
	callerCertbot    hookCaller = "certbot"
	callerLego       hookCaller = "lego"
	callerDehydrated hookCaller = "dehydrated"
)

// warnOnly says whether problems are warnings with exit status 0.
func (c hookCaller) warnOnly() bool { return c == callerLego || c == callerDehydrated }

// mysslCommand runs `acme-dns-hook myssl …`.
func mysslCommand(ctx context.Context, args []string, env settings.Env, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageErr("myssl needs scan or domains")
	}
	switch args[0] {
	case "scan":
		return mysslScan(ctx, args[1:], env, stdout, stderr)
	case "domains":
		return mysslDomains(ctx, args[1:], env, stdout, stderr)
	}
	return usageErr("unknown myssl command %q: use scan or domains", args[0])
}

// scanOptions are the options of `myssl scan`.
type scanOptions struct {
	wait     time.Duration // with waitSet: 0 means the default budget
	waitSet  bool
	minGrade string
	scanType string
	parallel int
	monitor  bool
	interval time.Duration
	hosts    []string
}

// options reads args as --name value or --name=value pairs for the names
// in takes (flags without a value in flags), calling set for each; every
// other argument is positional. "--" ends the options.
func options(args []string, takes, flags []string, set func(name, value string) error) ([]string, error) {
	var pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(pos, args[i+1:]...), nil
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			pos = append(pos, a)
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		switch {
		case slices.Contains(flags, name):
			if err := set(name, value); err != nil {
				return nil, err
			}
		case slices.Contains(takes, name):
			if !hasValue {
				if i+1 >= len(args) {
					return nil, usageErr("--%s needs a value", name)
				}
				i++
				value = args[i]
			}
			if err := set(name, value); err != nil {
				return nil, err
			}
		default:
			return nil, usageErr("unknown option %s", a)
		}
	}
	return pos, nil
}

// duration reads a Go duration ("90s", "2m") or whole seconds.
func duration(name, v string) (time.Duration, error) {
	if n, err := strconv.Atoi(v); err == nil && n > 0 {
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, usageErr("--%s=%q: use a duration such as 90s or 2m", name, v)
	}
	return d, nil
}

func parseScanOptions(args []string) (scanOptions, error) {
	var o scanOptions
	hosts, err := options(args, []string{"min-grade", "type", "parallel", "interval"}, []string{"wait", "monitor"}, func(name, v string) error {
		var err error
		switch name {
		case "wait":
			o.waitSet = true
			if v != "" {
				o.wait, err = duration(name, v)
			}
		case "monitor":
			o.monitor = true
			if v != "" {
				return usageErr("--monitor takes no value")
			}
		case "interval":
			o.interval, err = duration(name, v)
		case "min-grade":
			o.minGrade = ""
			for _, g := range myssl.Grades {
				if strings.EqualFold(g, v) {
					o.minGrade = g
				}
			}
			if o.minGrade == "" {
				return usageErr("--min-grade %q: use one of %s", v, strings.Join(myssl.Grades, ", "))
			}
		case "type":
			o.scanType = strings.ToLower(v)
			if !slices.Contains(myssl.ScanTypes, o.scanType) {
				return usageErr("--type %q: use quick or full", v)
			}
		case "parallel":
			o.parallel, err = strconv.Atoi(v)
			if err != nil || o.parallel < 1 || o.parallel > 100 {
				return usageErr("--parallel %q: use a number of scans from 1 to 100 (the Free plan allows 1, Pro 5, Business 20)", v)
			}
		}
		return err
	})
	o.hosts = hosts
	return o, err
}

// mysslScan is `myssl scan`: the hosts named, or, without any, the names of
// the certificate that certbot or lego has just deployed.
func mysslScan(ctx context.Context, args []string, env settings.Env, stdout, stderr io.Writer) error {
	o, err := parseScanOptions(args)
	if err != nil {
		return err
	}
	if len(o.hosts) > 0 {
		var targets []mysslscan.Target
		for _, h := range o.hosts {
			t, err := mysslscan.ParseTarget(h)
			if err != nil {
				return failure{2, err}
			}
			targets = append(targets, t)
		}
		return scanTargets(ctx, callerPerson, o, targets, nil, env, stdout, stderr)
	}
	caller, names, err := hookNames(env)
	if err != nil {
		return err
	}
	targets, skipped := mysslscan.Targets(names)
	return scanTargets(ctx, caller, o, targets, skipped, env, stdout, stderr)
}

// hookNames reads the names of the certificate a client's deploy hook is
// called for: certbot's RENEWED_DOMAINS; lego's LEGO_CERT_PATH (every name
// of the certificate), else LEGO_CERT_DOMAIN (its first name).
func hookNames(env settings.Env) (hookCaller, []string, error) {
	if v, ok := env("RENEWED_DOMAINS"); ok {
		return callerCertbot, strings.Fields(v), nil
	}
	if domain, ok := env("LEGO_CERT_DOMAIN"); ok {
		if path, _ := env("LEGO_CERT_PATH"); path != "" {
			if names, err := mysslscan.CertificateNames(path); err == nil {
				return callerLego, names, nil
			}
		}
		return callerLego, []string{domain}, nil
	}
	return "", nil, usageErr("myssl scan needs HOST[:PORT]..., or to run as certbot's --deploy-hook (RENEWED_DOMAINS) or lego's --run-hook or --renew-hook (LEGO_CERT_DOMAIN)")
}

// mysslDeployCert is dehydrated's deploy_cert DOMAIN KEYFILE CERTFILE
// FULLCHAINFILE CHAINFILE TIMESTAMP: a scan of every name of the
// certificate when MYSSL_API_KEY is set, else nothing.
func mysslDeployCert(ctx context.Context, args []string, env settings.Env, stdout, stderr io.Writer) error {
	if !mysslscan.InEnv(env) {
		return nil
	}
	if len(args) < 1 {
		warn(stderr, "deploy_cert without a domain: nothing scanned")
		return nil
	}
	names := []string{args[0]}
	if len(args) >= 3 {
		if n, err := mysslscan.CertificateNames(args[2]); err == nil {
			names = n
		} else {
			warn(stderr, fmt.Sprintf("reading the certificate's names: %v; scanning %s only", err, args[0]))
		}
	}
	targets, skipped := mysslscan.Targets(names)
	return scanTargets(ctx, callerDehydrated, scanOptions{}, targets, skipped, env, stdout, stderr)
}

func warn(stderr io.Writer, msg string) {
	fmt.Fprintln(stderr, "acme-dns-hook: myssl: warning: "+strings.ReplaceAll(msg, "\n", "; "))
}

// scanTargets scans targets with the settings in env and o, prints a line
// per target, and ends as caller expects (see the table at the top).
func scanTargets(ctx context.Context, caller hookCaller, o scanOptions, targets []mysslscan.Target, skipped []string, env settings.Env, stdout, stderr io.Writer) error {
	// fail ends a hook run: an error for a person or certbot, a warning
	// and status 0 for lego and dehydrated.
	fail := func(code int, err error) error {
		if !caller.warnOnly() {
			if caller != callerPerson {
				err = fmt.Errorf("%w (the certificate is kept)", err)
			}
			return failure{code, err}
		}
		warn(stderr, err.Error()+" (the certificate is kept)")
		return nil
	}
	if caller != callerPerson && !mysslscan.InEnv(env) {
		fmt.Fprintln(stderr, "acme-dns-hook: myssl: MYSSL_API_KEY is not set: nothing scanned")
		return nil
	}
	cfg, err := mysslscan.FromEnv(env)
	if err != nil {
		return fail(2, err)
	}
	if o.minGrade != "" {
		cfg.MinGrade = o.minGrade
	}
	if o.scanType != "" {
		cfg.ScanType = o.scanType
	}
	cfg.Monitor = cfg.Monitor || o.monitor
	budget := cfg.WaitBudget()
	if o.waitSet {
		switch {
		case o.wait > 0:
			budget = o.wait
		case budget == 0:
			budget = mysslscan.DefaultWait
		}
	}
	for _, s := range skipped {
		fmt.Fprintln(stderr, "acme-dns-hook: myssl: not scanned: "+s)
	}
	if len(targets) == 0 {
		return fail(1, errors.New("no host to scan among the certificate's names"))
	}
	client, err := cfg.Client(nil)
	if err != nil {
		return fail(2, err)
	}
	s := &mysslscan.Scanner{
		Client:   client,
		ScanType: cfg.ScanType,
		Monitor:  cfg.Monitor,
		Parallel: o.parallel,
		Wait:     budget,
		Interval: o.interval,
		Log:      func(l string) { fmt.Fprintln(stderr, "acme-dns-hook: myssl: "+l) },
	}
	var errs []error
	for _, r := range s.Scan(ctx, targets) {
		fmt.Fprintln(stdout, r.Line())
		if err := r.Check(cfg.MinGrade); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fail(1, errors.Join(errs...))
	}
	return nil
}

// mysslDomains is `myssl domains`: one line per monitored domain.
func mysslDomains(ctx context.Context, args []string, env settings.Env, stdout, stderr io.Writer) error {
	var q myssl.DomainQuery
	pos, err := options(args, []string{"status", "grade", "search"}, nil, func(name, v string) error {
		switch name {
		case "status":
			q.Status = strings.ToLower(v)
			if !slices.Contains(myssl.DomainStatuses, q.Status) {
				return usageErr("--status %q: use %s", v, strings.Join(myssl.DomainStatuses, ", "))
			}
		case "grade":
			q.Grade = strings.ToUpper(v)
			if !slices.Contains(myssl.Grades, q.Grade) {
				return usageErr("--grade %q: use one of %s", v, strings.Join(myssl.Grades, ", "))
			}
		case "search":
			q.Search = v
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErr("myssl domains takes no arguments, only --status, --grade and --search")
	}
	cfg, err := mysslscan.FromEnv(env)
	if err != nil {
		return failure{2, err}
	}
	client, err := cfg.Client(nil)
	if err != nil {
		return failure{2, err}
	}
	ds, err := client.AllDomains(ctx, q)
	if err != nil {
		return err
	}
	if len(ds) == 0 {
		fmt.Fprintln(stderr, "acme-dns-hook: myssl: MySSL watches no domain that matches")
	}
	for _, d := range ds {
		t := mysslscan.Target{Host: d.Hostname, Port: d.Port}
		r := mysslscan.Result{Target: t, Grade: d.Grade, Score: d.Score, Expiry: d.CertificateExpiry}
		line := strings.Replace(r.Line(), t.String(), quoted(t.String()), 1)
		fmt.Fprintf(stdout, "%s id=%s", line, quoted(d.ID))
		if !d.LastScan.IsZero() {
			fmt.Fprintf(stdout, " last_scan=%s", d.LastScan.UTC().Format(time.RFC3339))
		}
		fmt.Fprintf(stdout, " active=%t", d.Active)
		if d.MonitoringFrequency != "" {
			fmt.Fprintf(stdout, " frequency=%s", quoted(d.MonitoringFrequency))
		}
		fmt.Fprintln(stdout)
	}
	return nil
}

// quoted shows text from the API as is when plain, else quoted.
func quoted(s string) string {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("+._:-[]", c)) {
			return strconv.Quote(s)
		}
	}
	return s
}
