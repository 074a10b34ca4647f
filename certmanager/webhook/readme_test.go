package webhook

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/acme-dns-hook/acme-dns-hook/internal/providers"
)

// TestREADMEConfigFields: the table of webhook config fields in README's
// cert-manager section names, for every provider, exactly the fields the
// webhook takes (ConfigNames, derived from the provider's descriptor).
func TestREADMEConfigFields(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n### cert-manager\n")
	if !ok {
		t.Fatal("README has no cert-manager section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	rows := map[string][]string{} // provider title -> fields named
	field := regexp.MustCompile("`([A-Za-z]+)`")
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) != 4 || strings.Contains(cells[1], "provider") || strings.HasPrefix(strings.TrimSpace(cells[1]), "---") {
			continue
		}
		var names []string
		for _, m := range field.FindAllStringSubmatch(cells[2], -1) {
			names = append(names, m[1])
		}
		for _, title := range strings.Split(cells[1], ",") {
			rows[strings.TrimSpace(title)] = names
		}
	}
	for _, d := range providers.All() {
		got, ok := rows[d.Title]
		if !ok {
			t.Errorf("README's cert-manager table has no row for %s", d.Title)
			continue
		}
		want := ConfigNames(d)
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("README's cert-manager fields of %s: %v, want %v", d.Title, got, want)
		}
	}
}
