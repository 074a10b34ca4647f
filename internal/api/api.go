// Package api is the HTTP plumbing shared by every provider client: a
// per-request timeout under the caller's context, bounded retries with
// exponential backoff and jitter on 429, 5xx and transport errors (honouring
// Retry-After), one error type carrying the HTTP status and the provider's own
// message, credential redaction and a User-Agent naming the project.
//
// Provider packages decide what a request looks like and how an error body is
// read; this package decides when to try again and what an error says.
package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/acme-dns-hook/acme-dns-hook/internal/redact"
	"github.com/acme-dns-hook/acme-dns-hook/internal/version"
)

// UserAgent is sent with every request; it names the project and its
// version.Version.
func UserAgent() string {
	return "acme-dns-hook/" + version.Version + " (+https://github.com/acme-dns-hook/acme-dns-hook)"
}

// Retry bounds how often and how long a request is tried again.
// The zero value means the defaults below.
type Retry struct {
	Attempts  int           // total tries, first included; default 4
	BaseDelay time.Duration // delay before the second try, doubled each time; default 500ms
	MaxDelay  time.Duration // cap on one delay, also on an honoured Retry-After; default 10s
	MaxTotal  time.Duration // no new try starts after this much time; default 30s
}

func (r Retry) withDefaults() Retry {
	if r.Attempts <= 0 {
		r.Attempts = 4
	}
	if r.BaseDelay <= 0 {
		r.BaseDelay = 500 * time.Millisecond
	}
	if r.MaxDelay <= 0 {
		r.MaxDelay = 10 * time.Second
	}
	if r.MaxTotal <= 0 {
		r.MaxTotal = 30 * time.Second
	}
	return r
}

// Client sends JSON or form requests to one provider's API.
// It is safe for concurrent use once configured.
type Client struct {
	// BaseURL is the API root, e.g. https://mijn.host/api/v2/. Request paths
	// are joined to it.
	BaseURL *url.URL
	// HTTPClient sends the requests; nil means a client with no timeout of its
	// own (Timeout below bounds each try).
	HTTPClient *http.Client
	// Timeout bounds each single try; default 30s.
	Timeout time.Duration
	// Retry bounds retries.
	Retry Retry
	// Authorize adds credentials to a request.
	Authorize func(*http.Request)
	// Secrets are removed from every error text and log line.
	Secrets []string
	// Message extracts the provider's own error text from a response body;
	// nil means the trimmed body.
	Message func(status int, body []byte) string
	// RetryIf says whether a failed response that is not 429 or 5xx is
	// transient for this provider (mijn.host's spurious 400, for one).
	RetryIf func(status int, body []byte) bool
	// RetryAfter reads how long a 429 or 5xx answer asks the client to
	// wait before trying again, from the answer's headers; 0 means it asks
	// nothing and the backoff applies. Nil means [RetryAfter]: Retry-After,
	// else an RFC 3339 X-RateLimit-Reset. A provider whose reset header has
	// a documented form of its own (Unix seconds, say) reads it here.
	RetryAfter func(h http.Header, now time.Time) time.Duration
	// Logger receives one debug line per try; nil means none.
	Logger *slog.Logger
	// Wait waits d before a retry and returns early with ctx's error; nil
	// means a timer. Tests set it to see the waits without sleeping.
	Wait func(ctx context.Context, d time.Duration) error
}

// Request is one API call.
type Request struct {
	Method string
	Path   string     // joined to BaseURL; escape path segments with url.PathEscape
	Query  url.Values // optional
	JSON   any        // encoded as the JSON body when non-nil
	// RawJSON, when non-nil, is sent as is as the JSON body: json.Marshal
	// would compact and HTML-escape json.RawMessage values, changing the
	// bytes of records that must go back exactly as they were read (see
	// [ObjectWithArray]).
	RawJSON []byte
	Form    url.Values // encoded as a form body when non-nil
	// Idempotent says a retry after a transport error cannot apply the
	// change twice. GET, PUT and DELETE are idempotent by definition; set it
	// for a POST that replaces whole state.
	Idempotent bool
}

// Response is a successful (2xx) answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Decode unmarshals the body into v.
func (r *Response) Decode(v any) error {
	if err := json.Unmarshal(r.Body, v); err != nil {
		return fmt.Errorf("decoding response: %w", err)
	}
	return nil
}

// Error is a request that failed: an HTTP status outside 2xx, or a transport
// failure (Status 0). Its text never contains a configured secret.
type Error struct {
	Method  string
	Path    string
	Status  int    // 0 for transport errors
	Message string // the provider's own message, or the transport error
	// Body is the response body of an HTTP failure (nil for transport
	// errors), with every configured secret redacted (see package redact),
	// for provider packages that branch on a code inside it. It is never
	// part of Error().
	Body []byte
	// Header holds the response headers of an HTTP failure (nil for
	// transport errors), for provider packages that read a limit from
	// them. It is never part of Error().
	Header  http.Header
	Tries   int
	err     error
	secrets []string
	// unsure is set when an earlier try may have reached the server and
	// been acted on: it ended without an answer or with a status other than
	// 4xx.
	unsure bool
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: ", e.Method, e.Path)
	if e.Status != 0 {
		fmt.Fprintf(&b, "HTTP %d", e.Status)
		if e.Message != "" {
			b.WriteString(": " + e.Message)
		}
	} else {
		b.WriteString(e.Message)
	}
	if e.Tries > 1 {
		fmt.Fprintf(&b, " (after %d tries)", e.Tries)
	}
	return redact.String(b.String(), e.secrets...)
}

// CheckURL checks that s is an absolute http or https URL with a host, as
// every API URL setting must be; a descriptor's api_url setting uses it as
// its Format, so a bad URL is a configuration error before any request.
func CheckURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return errors.New("use an http or https URL with a host, such as https://api.example.com/v2/")
	}
	return nil
}

// Endpoint is the identity of the API root u, the same for every spelling
// of one root: scheme and host in lower case, a default port and a
// trailing dot of the host dropped, the path cleaned, in lower case and
// without a trailing slash; user information, query and fragment are left
// out (so the identity never holds a credential). Two processes configured
// with "https://Mijn.Host/api/v2/" and "https://mijn.host:443/api/v2" get
// the same Endpoint, so they take the same zone locks.
func Endpoint(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	host, port := strings.TrimSuffix(strings.ToLower(u.Hostname()), "."), u.Port()
	if scheme == "https" && port == "443" || scheme == "http" && port == "80" {
		port = ""
	}
	if port != "" || strings.Contains(host, ":") {
		host = net.JoinHostPort(host, port)
		host = strings.TrimSuffix(host, ":")
	}
	p := strings.ToLower(path.Clean("/" + u.Path))
	return scheme + "://" + host + strings.TrimSuffix(p, "/")
}

// Endpoint is the identity of the client's BaseURL; see [Endpoint].
func (c *Client) Endpoint() string { return Endpoint(c.BaseURL) }

// Unwrap returns the transport error, if any.
func (e *Error) Unwrap() error { return e.err }

// Refused reports whether the server refused the request, so that it did not
// act on it: every try was answered with a 4xx status (429 included). It is
// false when any try ended without an answer (a transport error, a timeout,
// a cancellation), since the server may have received and applied that try,
// and when any try was answered with a 5xx status, since a gateway's 502 or
// 504 can come after the server applied the request. A client that changes
// something can tell from it whether a failed change changed nothing.
func (e *Error) Refused() bool {
	return !e.unsure && e.Status >= 400 && e.Status < 500
}

// StatusOf returns the HTTP status of an *Error in err's chain, or 0.
func StatusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// Do sends req, retrying transient failures, and returns the 2xx response or
// an *Error. It gives up at once on the caller's cancellation and never
// retries 400, 401, 403 or 404 unless RetryIf says so.
func (c *Client) Do(ctx context.Context, req Request) (*Response, error) {
	body, ctype, err := encodeBody(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", req.Method, req.Path, err)
	}
	target := c.BaseURL.JoinPath(req.Path)
	if req.Query != nil {
		target.RawQuery = req.Query.Encode()
	}
	idempotent := req.Idempotent || req.Method == http.MethodGet || req.Method == http.MethodPut || req.Method == http.MethodDelete
	retry := c.Retry.withDefaults()
	start := time.Now()
	unsure := false // an earlier try may have been acted on
	for try := 1; ; try++ {
		resp, err := c.once(ctx, req.Method, target.String(), ctype, body)
		if err == nil && resp.Status/100 == 2 {
			return resp, nil
		}
		e := &Error{Method: req.Method, Path: req.Path, Tries: try, unsure: unsure, secrets: c.Secrets}
		// The errors of later tries remember whether this one may have been
		// acted on.
		unsure = unsure || err != nil || resp.Status < 400 || resp.Status >= 500
		var wait time.Duration
		transient := false
		if err != nil {
			if ctx.Err() != nil {
				e.Message, e.err = ctx.Err().Error(), ctx.Err()
				return nil, e
			}
			e.Message, e.err = transportMessage(err), err
			if errors.Is(err, context.DeadlineExceeded) {
				e.Message = fmt.Sprintf("request timed out: no answer within %s", c.timeout())
			}
			transient = idempotent
		} else {
			e.Status = resp.Status
			// Redacted before anything reads or shortens it: a secret the
			// server echoes, in whatever encoding, never reaches a message.
			e.Body = []byte(redact.String(string(resp.Body), c.Secrets...))
			e.Message = c.message(resp.Status, e.Body)
			e.Header = resp.Header
			switch {
			case resp.Status == http.StatusTooManyRequests || resp.Status >= 500:
				transient = true
				wait = c.retryAfter(resp.Header, time.Now())
			case c.RetryIf != nil && c.RetryIf(resp.Status, resp.Body):
				transient = true
			}
		}
		if !transient || try >= retry.Attempts {
			return nil, e
		}
		if wait > 0 && (wait > retry.MaxDelay || time.Since(start)+wait > retry.MaxTotal) {
			// Retrying sooner than the server asked would only be refused again.
			e.Message += fmt.Sprintf(" (server asks to retry after %s, beyond the retry budget)", wait.Round(time.Second))
			return nil, e
		}
		if wait == 0 {
			wait = backoff(retry, try)
		}
		if time.Since(start)+wait > retry.MaxTotal {
			// Said only when it is what stopped the tries: an API that hangs
			// is reported as timing out, not as asking for a pause.
			e.Message += fmt.Sprintf(" (no further try: the retry budget of %s is spent)", retry.MaxTotal)
			return nil, e
		}
		c.log(ctx, "retrying", "method", req.Method, "path", req.Path, "try", try, "wait", wait, "error", e.Error())
		if err := c.wait(ctx, wait); err != nil {
			e.Message, e.err = e.Message+" (then "+err.Error()+" while waiting to retry)", err
			return nil, e
		}
	}
}

// wait waits d, or until ctx ends.
func (c *Client) wait(ctx context.Context, d time.Duration) error {
	if c.Wait != nil {
		return c.Wait(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// timeout is the bound of one try.
func (c *Client) timeout() time.Duration {
	if c.Timeout <= 0 {
		return 30 * time.Second
	}
	return c.Timeout
}

func (c *Client) once(ctx context.Context, method, target, ctype string, body []byte) (*Response, error) {
	timeout := c.timeout()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	hreq, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return nil, err
	}
	hreq.Header.Set("User-Agent", UserAgent())
	hreq.Header.Set("Accept", "application/json")
	if ctype != "" {
		hreq.Header.Set("Content-Type", ctype)
	}
	if c.Authorize != nil {
		c.Authorize(hreq)
	}
	hc := c.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	hresp, err := hc.Do(hreq)
	if err != nil {
		return nil, err
	}
	defer hresp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(hresp.Body, 32<<20))
	if err != nil {
		return nil, fmt.Errorf("reading response: %w", err)
	}
	c.log(ctx, "api", "method", method, "url", target, "status", hresp.StatusCode)
	return &Response{Status: hresp.StatusCode, Header: hresp.Header, Body: data}, nil
}

// message is the provider's text for a failed answer, from a body that is
// already redacted; it is redacted again (the provider's reader may have
// decoded an escaped secret); a plain body is shortened after that.
func (c *Client) message(status int, body []byte) string {
	if c.Message != nil {
		if m := c.Message(status, body); m != "" {
			return redact.String(m, c.Secrets...)
		}
	}
	m := strings.TrimSpace(string(body))
	if strings.HasPrefix(m, "<") {
		// An HTML error page from a proxy: its title says it all.
		title := ""
		if _, rest, ok := strings.Cut(m, "<title>"); ok {
			title, _, _ = strings.Cut(rest, "</title>")
		}
		return strings.TrimSpace("HTML error page " + strings.TrimSpace(title))
	}
	return redact.Truncate(m, 200, c.Secrets...)
}

func (c *Client) log(ctx context.Context, msg string, args ...any) {
	if c.Logger == nil {
		return
	}
	for i := 1; i < len(args); i += 2 {
		if s, ok := args[i].(string); ok {
			args[i] = redact.String(s, c.Secrets...)
		}
	}
	c.Logger.DebugContext(ctx, msg, args...)
}

func encodeBody(req Request) ([]byte, string, error) {
	switch {
	case req.RawJSON != nil:
		if !json.Valid(req.RawJSON) {
			return nil, "", errors.New("encoding request body: not valid JSON")
		}
		return req.RawJSON, "application/json", nil
	case req.JSON != nil:
		b, err := json.Marshal(req.JSON)
		if err != nil {
			return nil, "", fmt.Errorf("encoding request body: %w", err)
		}
		return b, "application/json", nil
	case req.Form != nil:
		return []byte(req.Form.Encode()), "application/x-www-form-urlencoded", nil
	}
	return nil, "", nil
}

// ObjectWithArray returns the JSON object {"key":[e0,e1,…]} with each
// element written exactly as given (no compaction, no escaping), for
// [Request.RawJSON]. Every element must be valid JSON.
func ObjectWithArray(key string, elems []json.RawMessage) ([]byte, error) {
	k, _ := json.Marshal(key)
	var b bytes.Buffer
	b.WriteByte('{')
	b.Write(k)
	b.WriteString(":[")
	for i, e := range elems {
		if !json.Valid(e) {
			return nil, fmt.Errorf("element %d is not valid JSON", i)
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(e)
	}
	b.WriteString("]}")
	return b.Bytes(), nil
}

// transportMessage shortens a *url.Error to its cause: the URL is already in
// the Error's method and path.
func transportMessage(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "request timed out"
	}
	return err.Error()
}

// backoff is exponential with full jitter over the upper half:
// try n waits between base*2^(n-1)/2 and base*2^(n-1).
func backoff(r Retry, try int) time.Duration {
	d := r.BaseDelay << (try - 1)
	if d <= 0 || d > r.MaxDelay {
		d = r.MaxDelay
	}
	return d/2 + rand.N(d/2+1)
}

func (c *Client) retryAfter(h http.Header, now time.Time) time.Duration {
	if c.RetryAfter != nil {
		return c.RetryAfter(h, now)
	}
	return retryAfter(h, now)
}

// RetryAfter is how long an answer with headers h asks the client to wait,
// read as a [Client] does by default; see [Client.RetryAfter].
func RetryAfter(h http.Header, now time.Time) time.Duration { return retryAfter(h, now) }

// retryAfter reads a Retry-After header in seconds or as an HTTP date.
// Without one, an X-RateLimit-Reset header holding an ISO 8601 (RFC 3339)
// time is used (HostUp sends that form); numeric X-RateLimit-Reset values
// are ignored because APIs disagree on whether they are epoch seconds or a
// delay.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		if t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(h.Get("X-RateLimit-Reset"))); err == nil {
			if d := t.Sub(now); d > 0 {
				return d
			}
			return time.Millisecond
		}
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		if s == 0 {
			return time.Millisecond
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
		return time.Millisecond
	}
	return 0
}
