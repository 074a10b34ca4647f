package providers

import (
	"flag"
	"os"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite README.md's provider tables from the descriptors")

// TestREADMETables checks that README's table of every provider's settings
// is the one its descriptor gives (between <!-- settings NAME --> and
// <!-- end settings --> lines); -update rewrites them.
func TestREADMETables(t *testing.T) {
	const path = "../../README.md"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	block := regexp.MustCompile(`(?s)<!-- settings ([a-z0-9]+) -->\n(.*?)<!-- end settings -->`)
	seen := map[string]bool{}
	readme = block.ReplaceAllStringFunc(readme, func(m string) string {
		sub := block.FindStringSubmatch(m)
		d, err := Lookup(sub[1])
		if err != nil {
			t.Errorf("README names %q: %v", sub[1], err)
			return m
		}
		seen[d.Name] = true
		want := Table(d)
		if sub[2] != want && !*update {
			t.Errorf("README's table of %s differs from its descriptor; run go test ./internal/providers -run TestREADMETables -update\nwant:\n%s\ngot:\n%s", d.Name, want, sub[2])
		}
		return "<!-- settings " + d.Name + " -->\n" + want + "<!-- end settings -->"
	})
	for _, n := range Names() {
		if !seen[n] {
			t.Errorf("README has no settings table of %s (<!-- settings %s --> … <!-- end settings -->)", n, n)
		}
	}
	if *update && !t.Failed() {
		if err := os.WriteFile(path, []byte(readme), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if strings.Contains(readme, "internal/cmd/") {
		t.Errorf("README names internal/cmd/, which moved to e2e/cmd/")
	}
}
