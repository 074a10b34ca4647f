package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// --- the lego CLI with the hook binary ---

// buildHook builds the acme-dns-hook binary once, in the root module on its
// own as `go install` builds it, into dir.
func buildHook(goCmd, dir string) (string, error) {
	bin := filepath.Join(dir, "acme-dns-hook")
	cmd := exec.Command(goCmd, "build", "-o", bin, "./cmd/acme-dns-hook")
	cmd.Env = append(os.Environ(), "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building acme-dns-hook (run the bench from the repository root): %v\n%s", err, out)
	}
	return bin, nil
}

// checkLego fails unless path is an executable lego CLI.
func checkLego(path string) error {
	if fi, err := os.Stat(path); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		return fmt.Errorf("the lego CLI is not at %s: run `make tools` in the repository root to build it, or give -lego", path)
	}
	return nil
}

// clientEnv is the environment of a lego CLI process: this process's,
// minus anything that could redirect the client or the hook (proxies,
// HOME, CA bundles, settings of either), plus HOME and extra.
func clientEnv(home string, extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		drop := strings.HasSuffix(strings.ToLower(k), "_proxy") || k == "HOME" || strings.HasPrefix(k, "XDG_") ||
			k == "SSL_CERT_FILE" || k == "SSL_CERT_DIR"
		for _, p := range []string{"ACME_HOOK_", "MIJNHOST_", "REALTIMEREGISTER_", "HOSTUP_", "XYNTA_", "EXEC_", "HTTPREQ_", "LEGO_"} {
			drop = drop || strings.HasPrefix(k, p)
		}
		if !drop {
			env = append(env, kv)
		}
	}
	return append(append(env, "HOME="+home), extra...)
}

// cliSolver runs the lego CLI (bin/lego, v4.34.0) as a user does, one
// process per certificate with a fresh account, against the stack's Pebble
// and DNS server, with the hook through exec or through httpreq and
// `acme-dns-hook serve`. Every run has a lock directory of its own (so
// the hook's zone-list cache starts empty) and, for httpreq, a serve
// process of its own, started before the clock starts.
func (e *env) cliSolver(key, label, settings, dns string) *solver {
	m := e.newMeter()
	m.sequential = dns == "exec" // lego solves exec challenges one at a time
	s := &solver{key: key, label: label, settings: settings, class: classLego, workloads: legoWorkloads, skip: legoSkip, lego: true, m: m}
	s.prepare = func(ctx context.Context, names []string) (*runner, error) {
		dir, err := os.MkdirTemp(e.tmp, key+"-")
		if err != nil {
			return nil, err
		}
		lockDir := filepath.Join(dir, "locks")
		home := filepath.Join(dir, "home")
		for _, d := range []string{lockDir, home} {
			if err := os.Mkdir(d, 0o700); err != nil {
				return nil, err
			}
		}
		hookEnv := append(e.stack.Env(), "ACME_HOOK_LOCK_DIR="+lockDir, "ACME_HOOK_POLLING_INTERVAL=1")
		env := clientEnv(home, hookEnv...)
		env = append(env, "LEGO_CA_CERTIFICATES="+e.stack.CA.TLSRootsFile(), "LEGO_DISABLE_CNAME_SUPPORT=true")
		var stop func() error
		var events func() ([]hookCall, error)
		switch dns {
		case "exec":
			log := filepath.Join(dir, "calls.log")
			wrapper := filepath.Join(dir, "hook.sh")
			if err := os.WriteFile(wrapper, []byte(execWrapper(e.hookBin, log)), 0o700); err != nil {
				return nil, err
			}
			env = append(env, "EXEC_PATH="+wrapper, "EXEC_SEQUENCE_INTERVAL=0", "EXEC_POLLING_INTERVAL=0", "EXEC_PROPAGATION_TIMEOUT=30")
			events = func() ([]hookCall, error) { return readCalls(log) }
		case "httpreq":
			srv, err := startServe(e.hookBin, env)
			if err != nil {
				return nil, err
			}
			stop = srv.stop
			events = func() ([]hookCall, error) { return srv.calls(), nil }
			env = append(env, "HTTPREQ_ENDPOINT="+srv.url, "HTTPREQ_USERNAME="+serveUser, "HTTPREQ_PASSWORD="+servePass,
				"HTTPREQ_POLLING_INTERVAL=0", "HTTPREQ_PROPAGATION_TIMEOUT=30")
		default:
			return nil, fmt.Errorf("unknown lego DNS provider %q", dns)
		}
		args := []string{"--server", e.stack.CA.DirectoryURL, "--accept-tos", "--email", "bench@example.test", "--path", dir,
			"--key-type", "ec256", "--dns", dns, "--dns.resolvers", e.stack.DNS.Addr(), "--dns.propagation-disable-ans"}
		for _, n := range names {
			args = append(args, "-d", n)
		}
		args = append(args, "run")
		return &runner{
			obtain: func() ([]issued, error) {
				cmd := exec.CommandContext(ctx, e.legoBin, args...)
				cmd.Env, cmd.Dir = env, dir
				cmd.WaitDelay = 10 * time.Second
				out, err := cmd.CombinedOutput()
				if err != nil {
					return nil, fmt.Errorf("lego --dns %s: %v\n%s", dns, err, lastLines(out, 15))
				}
				pem, err := os.ReadFile(filepath.Join(dir, "certificates", strings.ReplaceAll(names[0], "*", "_")+".crt"))
				if err != nil {
					return nil, fmt.Errorf("lego exited 0 but left no certificate: %w", err)
				}
				return []issued{{pem, names}}, nil
			},
			settle: func() error {
				var err error
				if stop != nil {
					err = stop()
				}
				calls, cerr := events()
				for _, c := range calls {
					m.record(c)
				}
				return errors.Join(err, cerr)
			},
		}, nil
	}
	return s
}

// The HTTP Basic credentials of `acme-dns-hook serve` in the bench.
const serveUser, servePass = "lego", "bench-serve-password-5d2f9a"

// hookCall is one present or cleanup of the hook, as timed outside it.
type hookCall struct {
	cleanup    bool
	start, end time.Time
}

// record adds a hook call timed outside the process to the meter.
func (m *meter) record(c hookCall) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls = append(m.calls, span{c.start, c.end})
	if c.cleanup {
		m.cleanups = append(m.cleanups, c.end)
	} else {
		m.presents = append(m.presents, c.start)
	}
}

// execWrapper is the program lego's exec runs: it runs the hook and appends
// the command, its start and end (Unix nanoseconds) and exit code to log.
func execWrapper(hook, log string) string {
	q := func(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
	return "#!/bin/sh\ns=$(date +%s%N)\n" + q(hook) + " \"$@\"\nrc=$?\n" +
		"printf '%s %s %s %s\\n' \"$1\" \"$s\" \"$(date +%s%N)\" \"$rc\" >> " + q(log) + "\nexit $rc\n"
}

func readCalls(path string) ([]hookCall, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("the hook's call log: %w", err)
	}
	defer f.Close()
	var out []hookCall
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 4 {
			return nil, fmt.Errorf("the hook's call log: bad line %q", sc.Text())
		}
		s, err1 := strconv.ParseInt(fields[1], 10, 64)
		e, err2 := strconv.ParseInt(fields[2], 10, 64)
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("the hook's call log: %w", err)
		}
		out = append(out, hookCall{cleanup: fields[0] == "cleanup", start: time.Unix(0, s), end: time.Unix(0, e)})
	}
	return out, sc.Err()
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// serveProc is a running `acme-dns-hook serve` behind a timing proxy.
type serveProc struct {
	url   string // the proxy's
	cmd   *exec.Cmd
	done  chan struct{}
	out   *bytes.Buffer
	proxy *http.Server
	mu    sync.Mutex
	log   []hookCall
}

var servingRE = regexp.MustCompile(`serving POST /present and /cleanup on (http://127\.0\.0\.1:\d+)`)

// startServe starts `acme-dns-hook serve` on a free loopback port with env
// and, in front of it, a reverse proxy on loopback that times every
// POST /present and /cleanup.
func startServe(hookBin string, env []string) (*serveProc, error) {
	sp := &serveProc{done: make(chan struct{}), out: &bytes.Buffer{}}
	sp.cmd = exec.Command(hookBin, "serve", "--listen", "127.0.0.1:0")
	sp.cmd.Env = append(env, "ACME_HOOK_SERVE_USERNAME="+serveUser, "ACME_HOOK_SERVE_PASSWORD="+servePass)
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	sp.cmd.Stdout, sp.cmd.Stderr = pw, pw
	if err := sp.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting acme-dns-hook serve: %w", err)
	}
	pw.Close()
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			sp.mu.Lock()
			sp.out.WriteString(sc.Text() + "\n")
			sp.mu.Unlock()
			if m := servingRE.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
	}()
	go func() { sp.cmd.Wait(); close(sp.done) }()
	var backend string
	select {
	case backend = <-found:
	case <-sp.done:
		return nil, fmt.Errorf("acme-dns-hook serve exited before listening:\n%s", sp.output())
	case <-time.After(30 * time.Second):
		sp.cmd.Process.Kill()
		return nil, fmt.Errorf("acme-dns-hook serve is not listening after 30s:\n%s", sp.output())
	}
	target, err := url.Parse(backend)
	if err != nil {
		return nil, err
	}
	rp := httputil.NewSingleHostReverseProxy(target)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	sp.proxy = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := hookCall{cleanup: strings.HasSuffix(r.URL.Path, "/cleanup"), start: time.Now()}
		rp.ServeHTTP(w, r)
		c.end = time.Now()
		sp.mu.Lock()
		sp.log = append(sp.log, c)
		sp.mu.Unlock()
	})}
	go sp.proxy.Serve(ln)
	sp.url = "http://" + ln.Addr().String()
	return sp, nil
}

func (sp *serveProc) output() string {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return sp.out.String()
}

func (sp *serveProc) calls() []hookCall {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return append([]hookCall(nil), sp.log...)
}

// stop interrupts serve and waits for it; it must exit 0.
func (sp *serveProc) stop() error {
	sp.proxy.Close()
	sp.cmd.Process.Signal(os.Interrupt)
	select {
	case <-sp.done:
	case <-time.After(15 * time.Second):
		sp.cmd.Process.Kill()
		<-sp.done
		return fmt.Errorf("acme-dns-hook serve did not stop within 15s of SIGINT:\n%s", sp.output())
	}
	if code := sp.cmd.ProcessState.ExitCode(); code != 0 {
		return fmt.Errorf("acme-dns-hook serve exited %d:\n%s", code, sp.output())
	}
	return nil
}
