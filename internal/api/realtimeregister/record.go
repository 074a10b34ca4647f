package realtimeregister

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Record is one DNS record in Realtime Register's model (the objects of a
// zone's "records" and "defaultRecords").
type Record struct {
	// Name is the full record name without a trailing dot; the apex is the
	// zone name itself ("example.com", "_acme-challenge.example.com").
	Name string `json:"name"`
	// Type is the record type in upper case ("TXT", "MX", …).
	Type string `json:"type"`
	// Content is the type-specific content: for CNAME, ALIAS, NS and MX the
	// target host without trailing dot ("." for a null MX); for SRV
	// "weight port target"; for TXT the text without surrounding quotes,
	// with \ and " escaped by a backslash; otherwise presentation-format
	// RDATA (CAA: `0 issue "letsencrypt.org"`).
	Content string `json:"content"`
	// TTL in seconds. On write, 0 leaves the field out and the zone's TTL
	// applies.
	TTL int `json:"ttl,omitempty"`
	// Prio is the MX preference or the SRV priority. It is mandatory for MX
	// and SRV, where 0 is sent explicitly, and nil (omitted) for every other
	// type.
	Prio *int `json:"prio,omitempty"`
}

// RawRecord is a record as the API returned it: Raw holds its exact JSON so
// that it can be sent back unchanged, unknown fields included.
type RawRecord struct {
	Record
	Raw json.RawMessage
}

// usesPrio reports whether records of type t carry a prio field.
func usesPrio(t string) bool { return t == "MX" || t == "SRV" }

// hostTypes hold one host name as content, which the API stores without the
// trailing dot and treats as absolute.
var hostTypes = map[string]bool{"CNAME": true, "ALIAS": true, "NS": true}

// EncodeRecord returns the JSON the API expects for a new record, with
// fields in the order name, type, content, ttl, prio. It fails when prio is
// missing for MX or SRV or present for another type, and for an empty name,
// type or content.
func EncodeRecord(r Record) (json.RawMessage, error) {
	r.Type = strings.ToUpper(strings.TrimSpace(r.Type))
	r.Name = strings.TrimSuffix(r.Name, ".")
	switch {
	case r.Name == "" || r.Type == "":
		return nil, errors.New("record needs a name and a type")
	case r.Content == "":
		return nil, fmt.Errorf("record %s %s has no content", r.Name, r.Type)
	case usesPrio(r.Type) && r.Prio == nil:
		return nil, fmt.Errorf("record %s %s needs a prio", r.Name, r.Type)
	case !usesPrio(r.Type) && r.Prio != nil:
		return nil, fmt.Errorf("record %s %s cannot have a prio", r.Name, r.Type)
	case r.TTL < 0:
		return nil, fmt.Errorf("record %s %s has a negative TTL", r.Name, r.Type)
	}
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encoding record %s %s: %w", r.Name, r.Type, err)
	}
	return b, nil
}

// decodeRecord reads a record tolerantly: ttl and prio may be numbers,
// numeric strings or null, and the type is upper-cased.
func decodeRecord(raw json.RawMessage) (Record, error) {
	var r struct {
		Name    string  `json:"name"`
		Type    string  `json:"type"`
		Content string  `json:"content"`
		TTL     flexInt `json:"ttl"`
		Prio    flexInt `json:"prio"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return Record{}, err
	}
	rec := Record{Name: r.Name, Type: strings.ToUpper(r.Type), Content: r.Content, TTL: int(r.TTL.n)}
	if r.Prio.set {
		p := int(r.Prio.n)
		rec.Prio = &p
	}
	if rec.Name == "" || rec.Type == "" {
		return Record{}, fmt.Errorf("record without name or type: %s", raw)
	}
	return rec, nil
}

// FromData builds the record for an owner name (absolute, with or without
// trailing dot), a type, a TTL in seconds and data in zone-file syntax as
// libdns writes it (TXT: the plain text, unquoted). Host names in data
// without a trailing dot are taken relative to origin, the zone name. MX and
// SRV priorities move to Prio; TXT text is escaped.
func FromData(name, typ string, ttl int, data, origin string) (Record, error) {
	typ = strings.ToUpper(strings.TrimSpace(typ))
	r := Record{Name: strings.TrimSuffix(strings.ToLower(strings.TrimSpace(name)), "."), Type: typ, TTL: ttl}
	origin = strings.TrimSuffix(strings.ToLower(origin), ".")
	switch {
	case typ == "TXT":
		r.Content = EscapeTXT(data)
	case typ == "MX":
		f := strings.Fields(data)
		if len(f) != 2 {
			return Record{}, fmt.Errorf("MX data %q is not \"preference target\"", data)
		}
		p, err := uint16Field("MX preference", f[0])
		if err != nil {
			return Record{}, err
		}
		r.Prio, r.Content = &p, hostContent(f[1], origin)
	case typ == "SRV":
		f := strings.Fields(data)
		if len(f) != 4 {
			return Record{}, fmt.Errorf("SRV data %q is not \"priority weight port target\"", data)
		}
		p, err := uint16Field("SRV priority", f[0])
		if err != nil {
			return Record{}, err
		}
		for _, x := range f[1:3] {
			if _, err := uint16Field("SRV weight and port", x); err != nil {
				return Record{}, err
			}
		}
		r.Prio, r.Content = &p, f[1]+" "+f[2]+" "+hostContent(f[3], origin)
	case hostTypes[typ]:
		f := strings.Fields(data)
		if len(f) != 1 {
			return Record{}, fmt.Errorf("%s data %q is not one host name", typ, data)
		}
		r.Content = hostContent(f[0], origin)
	default:
		r.Content = strings.TrimSpace(data)
	}
	if r.Content == "" {
		return Record{}, fmt.Errorf("record %s %s has no data", r.Name, typ)
	}
	return r, nil
}

func uint16Field(what, s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 65535 {
		return 0, fmt.Errorf("%s %q is not a number from 0 to 65535", what, s)
	}
	return n, nil
}

// hostContent turns a zone-file host name into the API's form: absolute,
// without trailing dot; "." (the null target) stays.
func hostContent(host, origin string) string {
	switch {
	case host == ".":
		return "."
	case host == "@":
		return origin
	case strings.HasSuffix(host, "."):
		return strings.TrimSuffix(host, ".")
	case origin == "":
		return host
	}
	return host + "." + origin
}

// hostData turns the API's host content into an absolute zone-file name.
func hostData(content string) string {
	if content == "" || strings.HasSuffix(content, ".") {
		return content
	}
	return content + "."
}

// Data returns the record's data in zone-file syntax as libdns uses it:
// absolute host names with a trailing dot, the MX preference and SRV
// priority in front, TXT text unescaped and unquoted. Content the client
// cannot read is returned as it is.
func (r Record) Data() string {
	prio := 0
	if r.Prio != nil {
		prio = *r.Prio
	}
	switch t := strings.ToUpper(r.Type); {
	case t == "TXT":
		return UnescapeTXT(r.Content)
	case t == "MX":
		return strconv.Itoa(prio) + " " + hostData(strings.TrimSpace(r.Content))
	case t == "SRV":
		f := strings.Fields(r.Content)
		if len(f) == 3 {
			f[2] = hostData(f[2])
		}
		return strconv.Itoa(prio) + " " + strings.Join(f, " ")
	case hostTypes[t]:
		return hostData(strings.TrimSpace(r.Content))
	}
	return r.Content
}

// EscapeTXT returns TXT text in the API's content form: every \ becomes \\
// and every " becomes \" (no surrounding quotes).
func EscapeTXT(text string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(text)
}

// UnescapeTXT reverses EscapeTXT. It is tolerant: a backslash that escapes
// neither \ nor " is kept as it is.
func UnescapeTXT(content string) string {
	if !strings.Contains(content, `\`) {
		return content
	}
	var b strings.Builder
	for i := 0; i < len(content); i++ {
		c := content[i]
		if c == '\\' && i+1 < len(content) && (content[i+1] == '\\' || content[i+1] == '"') {
			i++
			c = content[i]
		}
		b.WriteByte(c)
	}
	return b.String()
}

// flexInt decodes a JSON number, a numeric string or null. set is false for
// null and for an absent field.
type flexInt struct {
	n   int64
	set bool
}

func (f *flexInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		return nil
	}
	s := strings.Trim(string(b), `"`)
	if s == "" {
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		fl, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || fl != float64(int64(fl)) {
			return fmt.Errorf("%s is not an integer", b)
		}
		n = int64(fl)
	}
	f.n, f.set = n, true
	return nil
}
