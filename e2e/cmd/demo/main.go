// Command demo runs acme-dns-hook's main job end to end on the built-in local
// stack, exactly as a user would run it: the lego CLI obtains a wildcard +
// apex certificate from a local Pebble CA, calling the acme-dns-hook binary
// to solve DNS-01 at a fake mijn.host API whose zone a local DNS server
// serves. Run it with `make demo`.
package main

import (
	"bufio"
	"context"
	"crypto/x509"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/acme-dns-hook/acme-dns-hook/e2e/localstack"
)

func main() {
	hook := flag.String("hook", "bin/acme-dns-hook", "the acme-dns-hook binary")
	lego := flag.String("lego", "bin/lego", "the lego CLI")
	flag.Parse()
	if err := run(*hook, *lego); err != nil {
		fmt.Fprintln(os.Stderr, "demo failed:", err)
		os.Exit(1)
	}
}

func step(format string, args ...any) { fmt.Printf("\n==> "+format+"\n", args...) }

func run(hook, lego string) error {
	for _, bin := range []*string{&hook, &lego} {
		abs, err := filepath.Abs(*bin)
		if err != nil {
			return err
		}
		if _, err := os.Stat(abs); err != nil {
			return fmt.Errorf("%s not found: run `make build tools` first", *bin)
		}
		*bin = abs
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	stack, err := localstack.Start(localstack.Options{CA: true})
	if err != nil {
		return err
	}
	defer stack.Close()
	step("local stack on 127.0.0.1")
	fmt.Printf("    fake %s API\n", stack.Provider)
	fmt.Printf("    DNS server           %s, authoritative for %s\n", stack.DNS.Addr(), localstack.Zone)
	fmt.Printf("    Pebble ACME CA       %s\n", stack.CA.DirectoryURL)
	before := stack.Fake.Snapshot(localstack.Zone)
	step("zone %s before (%d records)", localstack.Zone, len(before))
	printZone(before)

	dir, err := os.MkdirTemp("", "acme-dns-hook-demo")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	names := []string{localstack.Zone, "*." + localstack.Zone}
	args := []string{"--server", stack.CA.DirectoryURL, "--accept-tos", "--email", "demo@example.test", "--path", dir,
		"--dns", "exec", "--dns.resolvers", stack.DNS.Addr(), "--dns.propagation-disable-ans"}
	for _, n := range names {
		args = append(args, "-d", n)
	}
	args = append(args, "run")
	step("lego %s\n    with EXEC_PATH=%s", strings.Join(args, " "), hook)
	cmd := exec.CommandContext(ctx, lego, args...)
	cmd.Env = append(os.Environ(), stack.Env()...)
	cmd.Env = append(cmd.Env,
		"EXEC_PATH="+hook, "EXEC_SEQUENCE_INTERVAL=1", "EXEC_POLLING_INTERVAL=1", "EXEC_PROPAGATION_TIMEOUT=60",
		"LEGO_CA_CERTIFICATES="+stack.CA.TLSRootsFile(), "LEGO_DISABLE_CNAME_SUPPORT=true",
		"ACME_HOOK_POLLING_INTERVAL=1", "ACME_HOOK_LOCK_DIR="+filepath.Join(dir, "locks"))
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return err
	}
	indent(out)
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("lego: %w", err)
	}

	certPEM, err := os.ReadFile(filepath.Join(dir, "certificates", localstack.Zone+".crt"))
	if err != nil {
		return err
	}
	if err := stack.CA.VerifyChain(certPEM, names); err != nil {
		return err
	}
	block, _ := pem.Decode(certPEM)
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return err
	}
	step("certificate issued and verified against the CA's root")
	fmt.Printf("    names    %s\n", strings.Join(leaf.DNSNames, ", "))
	fmt.Printf("    issuer   %s\n", leaf.Issuer.CommonName)
	fmt.Printf("    expires  %s\n", leaf.NotAfter.UTC().Format(time.RFC1123))

	after := stack.Fake.Snapshot(localstack.Zone)
	step("zone %s after (%d records)", localstack.Zone, len(after))
	printZone(after)
	if !slices.Equal(before, after) {
		return fmt.Errorf("the zone after issuance differs from the zone before")
	}
	fmt.Println("    identical to the zone before: every record intact, no challenge record left")
	step("%s API requests: %v", stack.Descriptor.Title, stack.Fake.Requests())
	return nil
}

func indent(r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		fmt.Println("    | " + sc.Text())
	}
}

func printZone(lines []string) {
	for _, l := range lines {
		fmt.Println("    " + l)
	}
}
