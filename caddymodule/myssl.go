package caddymodule

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyevents"
	"go.uber.org/zap"

	"github.com/acme-dns-hook/acme-dns-hook/internal/mysslscan"
)

func init() {
	caddy.RegisterModule(newMySSL())
}

// mysslID is the handler's module ID.
const mysslID = "events.handlers.myssl"

// MySSL is the Caddy event handler events.handlers.myssl (experimental):
// after Caddy obtains or renews a certificate (the cert_obtained event), it
// asks MySSL (myssl.info) to scan the certificate's name from the outside,
// waits for the grade in the background and logs it. It never delays,
// fails or undoes a certificate: a failed scan or a grade below min_grade
// is a warning in Caddy's log. Scans run one at a time (the Free plan's
// limit). MySSL hosts no DNS: combine it with a dns.providers module.
//
// Its settings are MySSL's descriptor's (package mysslscan), in JSON
//
//	{"handler": "myssl", "api_key": "{env.MYSSL_API_KEY}", "min_grade": "B"}
//
// and in a Caddyfile's global events option
//
//	events {
//		on cert_obtained myssl {env.MYSSL_API_KEY}
//	}
//
// or with every setting in a block (api_key, api_url, min_grade, wait,
// scan_type, monitor). Unlike the hook, Caddy always waits for the result,
// up to wait (default 90 seconds), since nothing waits on it.
type MySSL struct {
	// Config holds the settings; after Provision its text settings hold
	// the values placeholders expanded to.
	Config *mysslscan.Config

	logger  *zap.Logger
	scanner *mysslscan.Scanner
	jobs    chan string
	cancel  context.CancelFunc
	done    chan struct{}
	once    sync.Once
}

func newMySSL() *MySSL { return &MySSL{Config: new(mysslscan.Config)} }

// CaddyModule returns the module's ID and constructor.
func (*MySSL) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: mysslID, New: func() caddy.Module { return newMySSL() }}
}

// MarshalJSON encodes the settings.
func (h *MySSL) MarshalJSON() ([]byte, error) { return json.Marshal(h.Config) }

// UnmarshalJSON decodes the settings, rejecting unknown keys.
func (h *MySSL) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(h.Config)
}

// UnmarshalCaddyfile reads `myssl [<api_key>] { <setting> <value> … }`.
func (h *MySSL) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	return unmarshalSettings(d, mysslscan.Descriptor, h.Config, mysslID, nil)
}

// Provision expands placeholders, checks the settings as the descriptor
// says, and starts the one worker that scans.
func (h *MySSL) Provision(ctx caddy.Context) error {
	if err := provisionSettings(mysslscan.Descriptor, h.Config); err != nil {
		return err
	}
	client, err := h.Config.Client(nil)
	if err != nil {
		return err
	}
	h.logger = ctx.Logger()
	wait := h.Config.WaitBudget()
	if wait == 0 {
		wait = mysslscan.DefaultWait
	}
	h.scanner = &mysslscan.Scanner{
		Client:   client,
		ScanType: h.Config.ScanType,
		Monitor:  h.Config.Monitor,
		Wait:     wait,
		Log:      func(l string) { h.logger.Debug(l) },
	}
	h.jobs = make(chan string, 1000)
	h.done = make(chan struct{})
	wctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go h.work(wctx)
	return nil
}

// Handle queues a scan of the name of each obtained certificate and
// returns at once; it never returns an error, so no certificate is held up.
func (h *MySSL) Handle(_ context.Context, e caddy.Event) error {
	if e.Name() != "cert_obtained" {
		return nil
	}
	name, _ := e.Data["identifier"].(string)
	if name == "" {
		return nil
	}
	if strings.HasPrefix(name, "*.") {
		h.logger.Info("MySSL: not scanned: a wildcard name is no host to connect to", zap.String("identifier", name))
		return nil
	}
	select {
	case h.jobs <- name:
	default:
		h.logger.Warn("MySSL: not scanned: too many scans queued", zap.String("identifier", name))
	}
	return nil
}

// work scans the queued names one at a time until Cleanup.
func (h *MySSL) work(ctx context.Context) {
	defer close(h.done)
	for {
		select {
		case <-ctx.Done():
			return
		case name := <-h.jobs:
			h.scan(ctx, name)
		}
	}
}

func (h *MySSL) scan(ctx context.Context, name string) {
	t, err := mysslscan.ParseTarget(name)
	if err != nil {
		h.logger.Warn("MySSL: not scanned", zap.String("identifier", name), zap.Error(err))
		return
	}
	r := h.scanner.Scan(ctx, []mysslscan.Target{t})[0]
	fields := []zap.Field{zap.String("host", t.String()), zap.String("result", r.Line())}
	if r.Grade != "" {
		fields = append(fields, zap.String("grade", r.Grade))
	}
	if r.Source != "" {
		fields = append(fields, zap.String("source", string(r.Source)))
	}
	if ctx.Err() != nil {
		h.logger.Info("MySSL: scan abandoned: Caddy unloaded the config", fields...)
		return
	}
	if err := r.Check(h.Config.MinGrade); err != nil {
		h.logger.Warn("MySSL: scan failed or graded too low; the certificate is kept", append(fields, zap.Error(err))...)
		return
	}
	h.logger.Info("MySSL: scanned", fields...)
}

// Cleanup stops the worker; a scan under way is abandoned.
func (h *MySSL) Cleanup() error {
	h.once.Do(func() {
		if h.cancel != nil {
			h.cancel()
			<-h.done
		}
	})
	return nil
}

// Interface guards.
var (
	_ caddy.Module          = (*MySSL)(nil)
	_ caddy.Provisioner     = (*MySSL)(nil)
	_ caddy.CleanerUpper    = (*MySSL)(nil)
	_ caddyfile.Unmarshaler = (*MySSL)(nil)
	_ caddyevents.Handler   = (*MySSL)(nil)
	_ json.Marshaler        = (*MySSL)(nil)
	_ json.Unmarshaler      = (*MySSL)(nil)
)
