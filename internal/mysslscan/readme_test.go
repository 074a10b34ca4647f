package mysslscan

import (
	"flag"
	"os"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite README.md's MySSL settings table from the descriptor")

// TestREADMETable checks that README's table of the MySSL settings (between
// <!-- myssl settings --> and <!-- end myssl settings -->) is the one the
// descriptor gives; -update rewrites it. It also checks that README's Caddy
// example is the global block of testdata/caddy/README-myssl.Caddyfile,
// which the Caddy end-to-end tests validate.
func TestREADMETable(t *testing.T) {
	const path = "../../README.md"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	block := regexp.MustCompile(`(?s)<!-- myssl settings -->\n(.*?)<!-- end myssl settings -->`)
	m := block.FindStringSubmatch(readme)
	if m == nil {
		t.Fatal("README has no <!-- myssl settings --> … <!-- end myssl settings --> block")
	}
	if want := Table(); m[1] != want {
		if !*update {
			t.Errorf("README's MySSL table differs from the descriptor; run go test ./internal/mysslscan -run TestREADMETable -update\nwant:\n%s\ngot:\n%s", want, m[1])
		} else if err := os.WriteFile(path, []byte(strings.Replace(readme, m[0], "<!-- myssl settings -->\n"+want+"<!-- end myssl settings -->", 1)), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	fixture, err := os.ReadFile("../../testdata/caddy/README-myssl.Caddyfile")
	if err != nil {
		t.Fatal(err)
	}
	global, _, _ := strings.Cut(string(fixture[strings.Index(string(fixture), "\n{\n")+1:]), "\n}\n")
	if !strings.Contains(readme, "```caddyfile\n"+global+"\n}\n```") {
		t.Errorf("README's MySSL Caddy example is not the global block of README-myssl.Caddyfile:\n%s\n}", global)
	}
}
