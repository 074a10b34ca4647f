// Command acme-dns-hook-webhook is the cert-manager DNS-01 webhook of
// acme-dns-hook: an aggregated API server with one solver per provider
// (solverName = the provider's name) under the API group GROUP_NAME.
//
// Environment: GROUP_NAME (required); POD_NAME and POD_NAMESPACE (the
// chart sets them) name the holder and the namespace of the zone Leases
// that serialise writes across replicas; ACME_HOOK_LEASE_NAMESPACE is the
// namespace when neither POD_NAMESPACE nor a service account says it;
// ACME_HOOK_WEBHOOK_LEASES=false turns the Leases off (one replica only).
// The flags are those of cert-manager's webhook server (--help lists them):
// --tls-cert-file, --tls-private-key-file, --secure-port, --kubeconfig,
// --authentication-kubeconfig, --authorization-kubeconfig, …
//
// It runs the server as cert-manager's cmd.RunWebhookServer does, but
// through webhook.NewServer, which serves more than one solver.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"
	"k8s.io/component-base/logs"

	"github.com/cert-manager/cert-manager/pkg/acme/webhook/cmd/server"
	logf "github.com/cert-manager/cert-manager/pkg/logs"

	"github.com/acme-dns-hook/acme-dns-hook/certmanager/lease"
	"github.com/acme-dns-hook/acme-dns-hook/certmanager/webhook"
	"github.com/acme-dns-hook/acme-dns-hook/internal/providers"
	"github.com/acme-dns-hook/acme-dns-hook/internal/settings"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "acme-dns-hook-webhook:", err)
		os.Exit(1)
	}
}

func run() error {
	group := strings.TrimSpace(os.Getenv("GROUP_NAME"))
	if group == "" {
		return fmt.Errorf("GROUP_NAME is not set: set it to the API group of the webhook, the groupName of your Issuers' webhook solvers (the chart sets it from the value groupName)")
	}
	leases, err := settings.OSEnv.Bool("ACME_HOOK_WEBHOOK_LEASES", true)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	opts := webhook.Options{Log: log}
	if leases {
		identity := lease.Identity()
		var once sync.Once // every solver's Initialize makes the lock; say it once
		opts.Lock = func(client kubernetes.Interface) (webhook.Lock, error) {
			ns, err := lease.Namespace(os.Getenv("ACME_HOOK_LEASE_NAMESPACE"))
			if err != nil {
				return nil, err
			}
			l := &lease.Locker{Client: client, Namespace: ns, Identity: identity, Log: log}
			once.Do(func() {
				log.Info("zone writes serialised across replicas with Leases", "namespace", ns, "holder", identity)
			})
			return l.Lock, nil
		}
	} else {
		log.Warn("ACME_HOOK_WEBHOOK_LEASES=false: zone writes are not serialised across replicas; run one replica only")
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	logs.InitLogs()
	defer logs.FlushLogs()

	o := server.NewWebhookServerOptions(group, webhook.Solvers(opts)...)
	cmd := &cobra.Command{
		Use:          "acme-dns-hook-webhook",
		Short:        "cert-manager DNS-01 webhook for " + strings.Join(providers.Names(), ", "),
		SilenceUsage: true,
		RunE: func(c *cobra.Command, args []string) error {
			if err := o.Validate(args); err != nil {
				return err
			}
			srv, err := webhook.NewServer(o)
			if err != nil {
				return err
			}
			return srv.GenericAPIServer.PrepareRun().RunWithContext(c.Context())
		},
	}
	logf.AddFlags(o.Logging, cmd.Flags())
	o.RecommendedOptions.AddFlags(cmd.Flags())
	return cmd.ExecuteContext(ctx)
}
