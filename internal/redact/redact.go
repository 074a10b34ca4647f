// Package redact removes secrets from text meant for people: error messages
// and log lines.
package redact

import "strings"

// Placeholder is what each occurrence of a secret is replaced by.
const Placeholder = "[REDACTED]"

// minLen is the length below which a "secret" is not redacted: replacing
// every "a" or "1" in a message would garble it without protecting anything.
const minLen = 4

// String returns s with every occurrence of each secret of at least four
// bytes replaced by Placeholder. Empty and shorter secrets are ignored;
// secrets are replaced in the order given.
func String(s string, secrets ...string) string {
	for _, sec := range secrets {
		if len(sec) >= minLen {
			s = strings.ReplaceAll(s, sec, Placeholder)
		}
	}
	return s
}
