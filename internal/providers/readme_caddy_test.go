package providers

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// TestREADMECaddySnippetsAreValidated: every site and global options block
// of README's Caddyfile examples is, line for line, a block of a
// testdata/caddy/README-*.Caddyfile (the files the end-to-end tests run
// `caddy validate` on), and the JSON fragment in
// README is the challenges object of testdata/caddy/README.json. An edit to
// README's examples that the tests do not check fails here.
func TestREADMECaddySnippetsAreValidated(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("../../testdata/caddy/README-*.Caddyfile")
	validated := map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range caddyEntries(string(b)) {
			validated[e] = true
		}
	}
	blocks := regexp.MustCompile("(?s)```caddyfile\n(.*?)```").FindAllStringSubmatch(string(readme), -1)
	if len(blocks) == 0 {
		t.Fatal("README has no Caddyfile block")
	}
	for _, b := range blocks {
		entries := caddyEntries(b[1])
		if len(entries) == 0 {
			t.Errorf("README's Caddyfile block has no site or options block:\n%s", b[1])
		}
		for _, e := range entries {
			if !validated[e] {
				t.Errorf("this block of README is in no testdata/caddy/README-*.Caddyfile:\n%s", e)
			}
		}
	}

	frag := regexp.MustCompile("(?s)`(\"challenges\":.*?)`").FindStringSubmatch(string(readme))
	if frag == nil {
		t.Fatal("README has no JSON challenges fragment")
	}
	var got map[string]any
	if err := json.Unmarshal([]byte("{"+strings.ReplaceAll(frag[1], "\n", " ")+"}"), &got); err != nil {
		t.Fatalf("README's JSON fragment %q does not parse: %v", frag[1], err)
	}
	full, err := os.ReadFile("../../testdata/caddy/README.json")
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Apps struct {
			TLS struct {
				Automation struct {
					Policies []struct {
						Issuers []map[string]any `json:"issuers"`
					} `json:"policies"`
				} `json:"automation"`
			} `json:"tls"`
		} `json:"apps"`
	}
	if err := json.Unmarshal(full, &cfg); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range cfg.Apps.TLS.Automation.Policies {
		for _, iss := range p.Issuers {
			if iss["module"] == "acme" && reflect.DeepEqual(iss["challenges"], got["challenges"]) {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("README's JSON fragment %s is not the challenges of an acme issuer in testdata/caddy/README.json", frag[1])
	}
}

// caddyEntries splits a Caddyfile into its top-level blocks (a site, or
// the global options), each from its first line to its closing brace at
// the start of a line; comments and blank lines between them are dropped.
func caddyEntries(caddyfile string) []string {
	var out []string
	var cur []string
	for _, line := range strings.Split(caddyfile, "\n") {
		switch {
		case cur == nil && (strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#")):
		case cur == nil:
			cur = []string{line}
			if strings.TrimSpace(line) == "}" {
				out, cur = append(out, line), nil
			}
		default:
			cur = append(cur, line)
			if line == "}" {
				out, cur = append(out, strings.Join(cur, "\n")), nil
			}
		}
	}
	if cur != nil {
		out = append(out, strings.Join(cur, "\n")) // unterminated: never matches a file's
	}
	return out
}
