package main

import (
	"github.com/acme-dns-hook/acme-dns-hook/internal/dnsname"
	"github.com/acme-dns-hook/acme-dns-hook/internal/solver"
)

// checkInput validates what a command was given before anything is asked of
// a provider, so that bad input changes nothing and exits 2: each
// challenge's name (normalised in place to its ASCII form with a trailing
// dot) and value, and the zone of records.
func checkInput(cmd string, chs []solver.Challenge, rest []string) error {
	for i := range chs {
		if err := checkChallenge(&chs[i]); err != nil {
			return failure{2, err}
		}
	}
	if cmd == "records" && len(rest) == 1 {
		z, err := dnsname.Name(rest[0])
		if err != nil {
			return failure{2, err}
		}
		rest[0] = z
	}
	return nil
}

// checkChallenge checks a challenge's record name and value, and puts the
// name in its ASCII form.
func checkChallenge(ch *solver.Challenge) error {
	name, err := dnsname.Name(ch.FQDN)
	if err != nil {
		return err
	}
	if err := dnsname.Value(ch.Value); err != nil {
		return err
	}
	ch.FQDN = name
	return nil
}
