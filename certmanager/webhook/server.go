package webhook

import (
	"strings"

	restful "github.com/emicklei/go-restful/v3"
	apiopenapi "k8s.io/apiserver/pkg/endpoints/openapi"

	"github.com/cert-manager/cert-manager/pkg/acme/webhook/apiserver"
	"github.com/cert-manager/cert-manager/pkg/acme/webhook/cmd/server"
)

// NewServer builds the webhook's API server from cert-manager's server
// options, as cert-manager's cmd.RunWebhookServer does, except that each
// solver's OpenAPI operations are named after the solver. cert-manager
// v1.21.2 names them after the payload kind only, so a server with more
// than one solver stops at start ("duplicate Operation ID …"); this one
// serves a solver per provider.
func NewServer(o *server.WebhookServerOptions) (*apiserver.ChallengeServer, error) {
	cfg, err := o.Config()
	if err != nil {
		return nil, err
	}
	cc := cfg.Complete()
	if c := cc.GenericConfig.OpenAPIConfig; c != nil {
		c.GetOperationIDAndTags = operationIDPerSolver
	}
	if c := cc.GenericConfig.OpenAPIV3Config; c != nil {
		c.GetOperationIDAndTags = operationIDPerSolver
	}
	return cc.New()
}

// operationIDPerSolver is Kubernetes' operation ID, followed by the
// resource (the solver name) for routes below /apis/<group>/<version>/.
func operationIDPerSolver(r *restful.Route) (string, []string, error) {
	id, tags, err := apiopenapi.GetOperationIDAndTags(r)
	if err != nil {
		return id, tags, err
	}
	parts := strings.Split(strings.Trim(r.Path, "/"), "/")
	if len(parts) >= 4 && parts[0] == "apis" {
		id += "For" + apiopenapi.ToValidOperationID(parts[3], true)
	}
	return id, tags, nil
}
