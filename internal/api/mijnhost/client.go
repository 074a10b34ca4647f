// Package mijnhost is a typed client for the DNS endpoints of the mijn.host
// API v2 (https://mijn.host/api/v2/). It knows nothing about ACME.
//
// It is tolerant of the API's known quirks: a "status" field that is a number
// or the string "error", HTTP 400 for a domain that is not in the account,
// dotted FQDN record names, and spurious 400 "DNS records not managed by
// mijn.host" answers, which are retried a bounded number of times.
package mijnhost

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/acme-dns-hook/acme-dns-hook/internal/api"
)

// DefaultURL is the production API root.
const DefaultURL = "https://mijn.host/api/v2/"

// ErrMissingKey is returned by New for an empty API key.
var ErrMissingKey = errors.New("API key is missing")

// Record is one DNS record in mijn.host's shape. MX priority lives inside
// Value ("10 mail.example.com."); TXT values are plain text without quotes.
type Record struct {
	Type  string `json:"type"`
	Name  string `json:"name"`
	Value string `json:"value"`
	TTL   int    `json:"ttl"`
}

// RawRecord is a record as the API returned it: Raw holds its exact JSON so
// that it can be sent back unchanged, unknown fields included.
type RawRecord struct {
	Record
	Raw json.RawMessage
}

// Domain is one domain of the account.
type Domain struct {
	ID     int64  `json:"id"`
	Domain string `json:"domain"`
	Status string `json:"status"`
}

// Client calls the mijn.host API with one API key. Safe for concurrent use.
type Client struct {
	api *api.Client
}

// Options tune a Client; the zero value is production with default retries.
type Options struct {
	BaseURL    string       // default DefaultURL
	HTTPClient *http.Client // default http.DefaultClient
	Retry      api.Retry
	Logger     *slog.Logger
}

// New returns a client for apiKey. It fails only on an empty key or an
// unparsable base URL.
func New(apiKey string, opts Options) (*Client, error) {
	if strings.TrimSpace(apiKey) == "" {
		return nil, ErrMissingKey
	}
	base := opts.BaseURL
	if base == "" {
		base = DefaultURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("API URL %q is not an http(s) URL", base)
	}
	return &Client{api: &api.Client{
		BaseURL:    u,
		HTTPClient: opts.HTTPClient,
		Retry:      opts.Retry,
		Authorize:  func(r *http.Request) { r.Header.Set("API-Key", apiKey) },
		Secrets:    []string{apiKey},
		Message:    message,
		RetryIf:    spurious,
		Logger:     opts.Logger,
	}}, nil
}

// Endpoint identifies the API root the client calls (see api.Endpoint).
func (c *Client) Endpoint() string { return c.api.Endpoint() }

// envelope is mijn.host's response wrapper. Status is a number in success
// bodies and in some error bodies, the string "error" in others.
type envelope struct {
	Status      json.RawMessage `json:"status"`
	Description string          `json:"status_description"`
	Data        json.RawMessage `json:"data"`
}

func message(_ int, body []byte) string {
	var env envelope
	if json.Unmarshal(body, &env) == nil && env.Description != "" {
		return env.Description
	}
	return ""
}

// spurious reports the 400 that mijn.host sometimes returns for domains it
// does manage; acme.sh's hook saw it often enough to retry it.
func spurious(status int, body []byte) bool {
	return status == http.StatusBadRequest && bytes.Contains(bytes.ToLower(body), []byte("not managed by mijn.host"))
}

// do sends the request and unwraps the envelope into data (may be nil). A
// 2xx answer whose body status is an error is an error too.
func (c *Client) do(ctx context.Context, req api.Request, data any) error {
	resp, err := c.api.Do(ctx, req)
	if err != nil {
		return err
	}
	var env envelope
	if err := resp.Decode(&env); err != nil {
		return fmt.Errorf("%s %s: %w", req.Method, req.Path, err)
	}
	if s := strings.Trim(string(env.Status), `"`); s != "" {
		if n, err := strconv.Atoi(s); err != nil || n/100 != 2 {
			return &api.Error{Method: req.Method, Path: req.Path, Status: resp.Status, Message: "body status " + s + ": " + env.Description}
		}
	}
	if data == nil {
		return nil
	}
	if len(env.Data) == 0 || string(env.Data) == "null" {
		return fmt.Errorf("%s %s: response has no data", req.Method, req.Path)
	}
	if err := json.Unmarshal(env.Data, data); err != nil {
		return fmt.Errorf("%s %s: decoding data: %w", req.Method, req.Path, err)
	}
	return nil
}

// Domains lists the account's domains (GET /domains).
func (c *Client) Domains(ctx context.Context) ([]Domain, error) {
	var data struct {
		Domains []Domain `json:"domains"`
	}
	if err := c.do(ctx, api.Request{Method: http.MethodGet, Path: "domains"}, &data); err != nil {
		return nil, err
	}
	return data.Domains, nil
}

// Records returns the domain's records (GET /domains/{domain}/dns) in API
// order, each with its raw JSON. A domain that is not in the account gives
// an *api.Error with Status 400.
func (c *Client) Records(ctx context.Context, domain string) ([]RawRecord, error) {
	var data struct {
		Records []json.RawMessage `json:"records"`
	}
	if err := c.do(ctx, api.Request{Method: http.MethodGet, Path: dnsPath(domain)}, &data); err != nil {
		return nil, err
	}
	out := make([]RawRecord, 0, len(data.Records))
	for i, raw := range data.Records {
		r, err := decodeRecord(raw)
		if err != nil {
			return nil, fmt.Errorf("GET %s: record %d: %w", dnsPath(domain), i, err)
		}
		out = append(out, RawRecord{Record: r, Raw: raw})
	}
	return out, nil
}

// ReplaceRecords replaces the domain's whole record set
// (PUT /domains/{domain}/dns). Every element is sent as is, so records read
// with Records go back byte for byte.
func (c *Client) ReplaceRecords(ctx context.Context, domain string, records []json.RawMessage) error {
	body, err := api.ObjectWithArray("records", records)
	if err != nil {
		return fmt.Errorf("PUT %s: %w", dnsPath(domain), err)
	}
	return c.do(ctx, api.Request{Method: http.MethodPut, Path: dnsPath(domain), RawJSON: body}, nil)
}

// PatchRecord adds or updates one record keyed on (type, name)
// (PATCH /domains/{domain}/dns). It cannot add a second value to a name that
// already has one of that type; use ReplaceRecords for that.
func (c *Client) PatchRecord(ctx context.Context, domain string, r Record) error {
	body := struct {
		Record Record `json:"record"`
	}{r}
	return c.do(ctx, api.Request{Method: http.MethodPatch, Path: dnsPath(domain), JSON: body, Idempotent: true}, nil)
}

func dnsPath(domain string) string {
	return "domains/" + url.PathEscape(strings.TrimSuffix(domain, ".")) + "/dns"
}

// decodeRecord reads a record tolerantly: ttl may be a number or a string.
func decodeRecord(raw json.RawMessage) (Record, error) {
	var r struct {
		Type  string          `json:"type"`
		Name  string          `json:"name"`
		Value string          `json:"value"`
		TTL   json.RawMessage `json:"ttl"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return Record{}, err
	}
	rec := Record{Type: strings.ToUpper(r.Type), Name: r.Name, Value: r.Value}
	if t := strings.Trim(string(r.TTL), `"`); t != "" && t != "null" {
		n, err := strconv.Atoi(t)
		if err != nil {
			return Record{}, fmt.Errorf("ttl %s is not a number", r.TTL)
		}
		rec.TTL = n
	}
	if rec.Type == "" || rec.Name == "" {
		return Record{}, fmt.Errorf("record without type or name: %s", raw)
	}
	return rec, nil
}

// EncodeRecord returns the JSON mijn.host expects for a new record.
func EncodeRecord(r Record) json.RawMessage {
	b, _ := json.Marshal(r) // a struct of strings and an int always marshals
	return b
}
