// Command acme-dns-hook-webhook is the cert-manager DNS-01 webhook of
// acme-dns-hook: an aggregated API server with one solver per provider
// (solverName = the provider's name) under the API group GROUP_NAME.
//
// Environment: GROUP_NAME (required); POD_NAME and POD_NAMESPACE (the
// chart sets them) name the holder and the namespace of the zone Leases
// that serialise writes across replicas; ACME_HOOK_LEASE_NAMESPACE is the
// namespace when neither POD_NAMESPACE nor a service account says it;
// ACME_HOOK_WEBHOOK_LEASES=false turns the Leases off (one replica only).
// Every other flag is cert-manager's webhook server's (--help lists them).
package main

import (
	"fmt"
	"log/slog"
	"os"
	"strings"

	"k8s.io/client-go/kubernetes"

	"github.com/cert-manager/cert-manager/pkg/acme/webhook/cmd"

	"github.com/acme-dns-hook/acme-dns-hook/certmanager/lease"
	"github.com/acme-dns-hook/acme-dns-hook/certmanager/webhook"
	"github.com/acme-dns-hook/acme-dns-hook/internal/settings"
)

func main() {
	group := strings.TrimSpace(os.Getenv("GROUP_NAME"))
	if group == "" {
		fmt.Fprintln(os.Stderr, "acme-dns-hook-webhook: GROUP_NAME is not set: set it to the API group of the webhook, the groupName of your Issuers' webhook solvers (the chart sets it from the value groupName)")
		os.Exit(2)
	}
	leases, err := settings.OSEnv.Bool("ACME_HOOK_WEBHOOK_LEASES", true)
	if err != nil {
		fmt.Fprintln(os.Stderr, "acme-dns-hook-webhook:", err)
		os.Exit(2)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	opts := webhook.Options{Log: log}
	if leases {
		identity := lease.Identity()
		opts.Lock = func(client kubernetes.Interface) (webhook.Lock, error) {
			ns, err := lease.Namespace(os.Getenv("ACME_HOOK_LEASE_NAMESPACE"))
			if err != nil {
				return nil, err
			}
			l := &lease.Locker{Client: client, Namespace: ns, Identity: identity, Log: log}
			log.Info("zone writes serialised across replicas with Leases", "namespace", ns, "holder", identity)
			return l.Lock, nil
		}
	} else {
		log.Warn("ACME_HOOK_WEBHOOK_LEASES=false: zone writes are not serialised across replicas; run one replica only")
	}
	cmd.RunWebhookServer(group, webhook.Solvers(opts)...)
}
