package realtimeregister

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/acme-dns-hook/acme-dns-hook/internal/api"
)

// Error types of the API that the client or its callers react to.
const (
	TypeObjectDoesNotExist      = "ObjectDoesNotExist"        // HTTP 400, not 404
	TypeObjectExists            = "ObjectExists"              // HTTP 400
	TypeDNSConfiguration        = "DnsConfigurationException" // HTTP 400, per-record errors and conflicts
	TypeConstraintViolation     = "ConstraintViolationException"
	TypeValidation              = "ValidationError"
	TypeUnrecognizedProperty    = "UnrecognizedPropertyException"
	TypeObjectStatusProhibits   = "ObjectStatusProhibitsOperation"
	TypeAuthentication          = "AuthenticationError" // HTTP 401
	TypeAuthorization           = "AuthorizationError"  // HTTP 403
	TypeTooManyRequests         = "TooManyRequests"     // HTTP 429
	TypeInvalidMessage          = "InvalidMessage"
	TypeBillableAcknowledgement = "BillableAcknowledgmentNeededException"
)

// Error is an error answer of the API in its documented shape
// {"type": …, "message": …, …}. It wraps the *api.Error of the request, so
// api.StatusOf works on it, and its text is that error's text: method,
// path, HTTP status and a description naming the offending records.
type Error struct {
	Type    string
	Message string
	// ObjectType and Identifier name the object of ObjectDoesNotExist and
	// ObjectExists.
	ObjectType, Identifier string
	// Property is the unknown field of UnrecognizedPropertyException.
	Property string
	// RecordErrors are the per-record errors of DnsConfigurationException,
	// sorted by record index (unnumbered keys last) and field.
	RecordErrors []RecordError
	// Conflicts are the record conflicts of DnsConfigurationException,
	// sorted by record index.
	Conflicts []Conflict
	// Violations are the failed constraints of ConstraintViolationException.
	Violations []Violation

	err error
}

// RecordError is one field error of one record in a write request.
type RecordError struct {
	Index    int    // 0-based index in the request's records; -1 if the key was not a number
	Key      string // the key as the API sent it
	Field    string // name, type, content, ttl or prio; "" if the API gave none
	Messages []string
}

// Conflict says that the record at Index conflicts with the records at With
// (indexes in the request's records).
type Conflict struct {
	Index int
	With  []int
}

// Violation is one failed constraint of ConstraintViolationException.
type Violation struct {
	Field   string `json:"field"`
	Message string `json:"message"`
	Value   any    `json:"value,omitempty"`
}

func (e *Error) Error() string { return e.err.Error() }

// Unwrap returns the underlying *api.Error.
func (e *Error) Unwrap() error { return e.err }

// TypeOf returns the API error type of err ("" if err carries none).
func TypeOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Type
	}
	return ""
}

// IsNotFound reports whether err says that the object does not exist: the
// documented 400 ObjectDoesNotExist, or a plain 404 (whose body, if any, is
// not relied on).
func IsNotFound(err error) bool {
	return TypeOf(err) == TypeObjectDoesNotExist || api.StatusOf(err) == http.StatusNotFound
}

// parseProblem reads an error body. It returns nil for a body that is not a
// JSON object with a type or a message.
//
// [UNKNOWN] tolerated: DnsConfigurationException's inner values are strings
// in the documentation but lists of strings in RTR's own WHMCS template, so
// both (and any other JSON, shown as is) are accepted; record keys that are
// not plain numbers are searched for a number; conflict lists may hold
// numbers or numeric strings, or be a single value.
func parseProblem(body []byte) *Error {
	var raw struct {
		Type       string                     `json:"type"`
		Message    string                     `json:"message"`
		ObjectType string                     `json:"objectType"`
		Identifier json.RawMessage            `json:"identifier"`
		Property   string                     `json:"property"`
		Errors     map[string]json.RawMessage `json:"errors"`
		Conflicts  map[string]json.RawMessage `json:"conflicts"`
		Violations []Violation                `json:"violations"`
	}
	if json.Unmarshal(body, &raw) != nil || (raw.Type == "" && raw.Message == "") {
		return nil
	}
	e := &Error{Type: raw.Type, Message: raw.Message, ObjectType: raw.ObjectType, Identifier: scalar(raw.Identifier),
		Property: raw.Property, Violations: raw.Violations}
	for key, v := range raw.Errors {
		idx := index(key)
		var fields map[string]json.RawMessage
		if json.Unmarshal(v, &fields) == nil && fields != nil {
			for f, msgs := range fields {
				e.RecordErrors = append(e.RecordErrors, RecordError{Index: idx, Key: key, Field: f, Messages: messages(msgs)})
			}
			continue
		}
		e.RecordErrors = append(e.RecordErrors, RecordError{Index: idx, Key: key, Messages: messages(v)})
	}
	sort.Slice(e.RecordErrors, func(i, j int) bool {
		a, b := e.RecordErrors[i], e.RecordErrors[j]
		if a.Index != b.Index {
			return uint(a.Index) < uint(b.Index) // unnumbered keys (-1) last
		}
		if a.Key != b.Key {
			return a.Key < b.Key
		}
		return a.Field < b.Field
	})
	for key, v := range raw.Conflicts {
		c := Conflict{Index: index(key)}
		var list []json.RawMessage
		if json.Unmarshal(v, &list) != nil {
			list = []json.RawMessage{v}
		}
		for _, x := range list {
			if n, err := strconv.Atoi(strings.Trim(string(x), `" `)); err == nil {
				c.With = append(c.With, n)
			}
		}
		e.Conflicts = append(e.Conflicts, c)
	}
	sort.Slice(e.Conflicts, func(i, j int) bool { return e.Conflicts[i].Index < e.Conflicts[j].Index })
	return e
}

var digits = regexp.MustCompile(`\d+`)

// index reads a record index key: "3", or a key with one number in it.
func index(key string) int {
	if n, err := strconv.Atoi(strings.TrimSpace(key)); err == nil {
		return n
	}
	if m := digits.FindAllString(key, -1); len(m) == 1 {
		n, _ := strconv.Atoi(m[0])
		return n
	}
	return -1
}

// messages reads a string, a list of strings, or shows other JSON as is.
func messages(v json.RawMessage) []string {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return []string{s}
	}
	var list []string
	if json.Unmarshal(v, &list) == nil {
		return list
	}
	return []string{strings.TrimSpace(string(v))}
}

func scalar(v json.RawMessage) string {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	if string(v) == "null" {
		return ""
	}
	return string(v)
}

// maxDescribed bounds how many record errors one message lists.
const maxDescribed = 8

// describe renders the problem as one line. sent are the records of the
// request, used to name the records that errors and conflicts point at.
func (e *Error) describe(sent []json.RawMessage) string {
	var b strings.Builder
	b.WriteString(e.Type)
	if e.Message != "" {
		if b.Len() > 0 {
			b.WriteString(": ")
		}
		b.WriteString(e.Message)
	}
	if e.ObjectType != "" || e.Identifier != "" {
		fmt.Fprintf(&b, " (%s)", strings.TrimSpace(e.ObjectType+" "+e.Identifier))
	}
	if e.Property != "" {
		fmt.Fprintf(&b, " (property %q)", e.Property)
	}
	var parts []string
	for _, v := range e.Violations {
		p := v.Field + ": " + v.Message
		if v.Value != nil {
			p += fmt.Sprintf(" (value %v)", v.Value)
		}
		parts = append(parts, p)
	}
	for _, re := range e.RecordErrors {
		p := recordLabel(re.Index, re.Key, sent) + ": "
		if re.Field != "" {
			p += re.Field + ": "
		}
		parts = append(parts, p+strings.Join(re.Messages, ", "))
	}
	for _, c := range e.Conflicts {
		with := make([]string, len(c.With))
		for i, w := range c.With {
			with[i] = recordLabel(w, strconv.Itoa(w), sent)
		}
		parts = append(parts, recordLabel(c.Index, strconv.Itoa(c.Index), sent)+" conflicts with "+strings.Join(with, " and "))
	}
	if len(parts) > maxDescribed {
		parts = append(parts[:maxDescribed], fmt.Sprintf("and %d more", len(parts)-maxDescribed))
	}
	if len(parts) > 0 {
		b.WriteString(": " + strings.Join(parts, "; "))
	}
	return b.String()
}

// recordLabel names record i of a request: `record 2 (www.example.com A "192.0.2.1")`.
func recordLabel(i int, key string, sent []json.RawMessage) string {
	if i < 0 {
		return "record " + strconv.Quote(key)
	}
	label := "record " + strconv.Itoa(i)
	if i < len(sent) {
		if r, err := decodeRecord(sent[i]); err == nil {
			label += fmt.Sprintf(" (%s %s %q)", r.Name, r.Type, r.Content)
		}
	}
	return label
}
