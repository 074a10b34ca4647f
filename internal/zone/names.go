package zone

import "strings"

// ReadName turns a record name as a provider API returns it into an FQDN
// with a trailing dot, in lower case. It accepts a dotted FQDN, "@" or ""
// for the apex, a name relative to zone, and an undotted name that is zone
// or ends in it (read as absolute, not doubled). zone may carry a trailing
// dot or not.
func ReadName(name, zone string) string {
	z := strings.TrimSuffix(strings.ToLower(zone), ".")
	n := strings.ToLower(strings.TrimSpace(name))
	switch {
	case strings.HasSuffix(n, "."):
		return n
	case n == "" || n == "@":
		return z + "."
	case n == z || strings.HasSuffix(n, "."+z):
		return n + "."
	default:
		return n + "." + z + "."
	}
}

// Longest returns the longest of zones (canonical, see Canonical) that is
// name or a parent of it, or "" if none is.
func Longest(name string, zones []string) string {
	name = Canonical(name)
	best := ""
	for _, z := range zones {
		if InZone(name, z) && len(z) > len(best) {
			best = z
		}
	}
	return best
}
