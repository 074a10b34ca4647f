package apitest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"unicode/utf8"
)

// HouseStyle encodes v as some real APIs write JSON (Python's json.dumps,
// say): a space after each ':' and ',', non-ASCII characters as \uXXXX
// escapes, and '<', '>' and '&' as they are. Fakes store the records they
// create in it, and return stored records byte for byte, so that a client
// which re-encodes a record it read instead of sending its bytes back
// (json.Marshal compacts and HTML-escapes) changes it visibly.
func HouseStyle(v any) json.RawMessage {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(fmt.Sprintf("apitest: HouseStyle: %v", err))
	}
	in := bytes.TrimSpace(b.Bytes())
	var out bytes.Buffer
	inString, escaped := false, false
	for i := 0; i < len(in); {
		c := in[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRune(in[i:])
			if r > 0xFFFF {
				r -= 0x10000
				fmt.Fprintf(&out, `\u%04x\u%04x`, 0xD800+(r>>10), 0xDC00+(r&0x3FF))
			} else {
				fmt.Fprintf(&out, `\u%04x`, r)
			}
			i += n
			continue
		}
		out.WriteByte(c)
		i++
		switch {
		case inString && escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case !inString && (c == ':' || c == ','):
			out.WriteByte(' ')
		}
	}
	return out.Bytes()
}

// WriteJSONWithArray writes body as [WriteJSON] does, except that the JSON
// null value of key (a field "key":null, which must occur once) is replaced
// by the array of elems, each written exactly as given: stored records go
// out byte for byte.
func WriteJSONWithArray(w http.ResponseWriter, code int, contentType string, body any, key string, elems []json.RawMessage) {
	buf, err := json.Marshal(body)
	if err != nil {
		panic(err)
	}
	buf = SpliceArray(buf, key, elems)
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(code)
	w.Write(buf)
}

// SpliceArray returns the JSON document buf with the one field "key":null
// in it replaced by "key":[elems…], each element written exactly as given.
// It panics unless that field occurs exactly once.
func SpliceArray(buf []byte, key string, elems []json.RawMessage) []byte {
	k, _ := json.Marshal(key)
	slot := append(k, []byte(":null")...)
	if bytes.Count(buf, slot) != 1 {
		panic(fmt.Sprintf("apitest: WriteJSONWithArray: %s:null occurs %d times in %s", k, bytes.Count(buf, slot), buf))
	}
	var arr bytes.Buffer
	arr.Write(k)
	arr.WriteString(":[")
	for i, e := range elems {
		if i > 0 {
			arr.WriteByte(',')
		}
		arr.Write(e)
	}
	arr.WriteByte(']')
	return bytes.Replace(buf, slot, arr.Bytes(), 1)
}
