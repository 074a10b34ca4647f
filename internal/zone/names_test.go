package zone

import "testing"

func TestReadName(t *testing.T) {
	tests := []struct{ name, zone, want string }{
		{"@", "example.nl.", "example.nl."},
		{"", "example.nl", "example.nl."},
		{"www", "example.nl.", "www.example.nl."},
		{"_acme-challenge.Sub", "example.co.uk.", "_acme-challenge.sub.example.co.uk."},
		{"*.www", "example.nl.", "*.www.example.nl."},
		{"www.example.nl.", "example.nl.", "www.example.nl."},
		{"www.example.nl", "example.nl.", "www.example.nl."},
		{"EXAMPLE.NL", "example.nl", "example.nl."},
	}
	for _, tt := range tests {
		if got := ReadName(tt.name, tt.zone); got != tt.want {
			t.Errorf("ReadName(%q, %q) = %q, want %q", tt.name, tt.zone, got, tt.want)
		}
	}
}

func TestLongest(t *testing.T) {
	zones := []string{"example.com.", "sub.example.com.", "example.net."}
	for name, want := range map[string]string{
		"_acme-challenge.www.sub.example.com": "sub.example.com.",
		"_acme-challenge.example.com.":        "example.com.",
		"notsub.example.com":                  "example.com.",
		"notexample.com.":                     "",
	} {
		if got := Longest(name, zones); got != want {
			t.Errorf("Longest(%q) = %q, want %q", name, got, want)
		}
	}
}
