package server

import (
	"context"
	"fmt"
	"path/filepath"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/request/bearertoken"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"

	saadmission "github.com/herd-project/herd/pkg/admission/serviceaccount"
	"github.com/herd-project/herd/pkg/apiserver"
	"github.com/herd-project/herd/pkg/controller/rootcacertpublisher"
	"github.com/herd-project/herd/pkg/pki"
	"github.com/herd-project/herd/pkg/registry/authentication"
	saregistry "github.com/herd-project/herd/pkg/registry/core/serviceaccount"
	satoken "github.com/herd-project/herd/pkg/serviceaccount"
)

// withServiceAccounts prepares the service account signing key
// (DIR/tls/service-account.key) and adds to c what service accounts need:
// the serviceaccounts/token subresource, the token authenticator, the API
// audiences, TokenReview and SelfSubjectReview, and the ServiceAccount
// admission plugin. The returned issuer needs SetGetter once the API
// server exists.
func withServiceAccounts(files pki.Files, c *apiserver.Config) (*satoken.Issuer, error) {
	key, err := satoken.EnsureKey(filepath.Join(files.Dir, satoken.KeyFile))
	if err != nil {
		return nil, fmt.Errorf("preparing the service account signing key: %w", err)
	}
	issuer, err := satoken.NewIssuer(key, satoken.DefaultIssuer, nil, nil)
	if err != nil {
		return nil, err
	}
	saregistry.WithTokens(c.Definitions, issuer)
	c.Authenticators = append(c.Authenticators, bearertoken.New(issuer))
	c.APIAudiences = issuer.APIAudiences
	c.Admission = append(c.Admission, saadmission.New())
	prev := c.ExtraStorage
	c.ExtraStorage = func(authn authenticator.Request) map[schema.GroupVersion]map[string]rest.Storage {
		m := map[schema.GroupVersion]map[string]rest.Storage{}
		if prev != nil {
			m = prev(authn)
		}
		gv := schema.GroupVersion{Group: "authentication.k8s.io", Version: "v1"}
		if m[gv] == nil {
			m[gv] = map[string]rest.Storage{}
		}
		for k, s := range authentication.Storage(authn, issuer.APIAudiences) {
			m[gv][k] = s
		}
		return m
	}
	return issuer, nil
}

// setTokenGetter gives the issuer its object getter. The getter's caches
// (service accounts, pods, secrets, nodes) are the controllers' (ctrl,
// started with the controllers), which /readyz does not wait for: until
// they have synced, a lookup the cache misses is a GET.
func setTokenGetter(srv *apiserver.Server, ctrl informers.SharedInformerFactory, issuer *satoken.Issuer) {
	issuer.SetGetter(satoken.NewGetter(srv.Client, ctrl))
}

// startRootCAPublisher runs the root CA publisher (kube-root-ca.crt with
// rootCA in every namespace) as its own identity (client) on the
// controllers' informers, as kube-controller-manager's
// root-ca-cert-publisher.
func startRootCAPublisher(ctx context.Context, ctrl informers.SharedInformerFactory, client kubernetes.Interface, rootCA []byte) error {
	pub := rootcacertpublisher.New(client, rootCA, ctrl.Core().V1().Namespaces(), ctrl.Core().V1().ConfigMaps())
	ctrl.Start(ctx.Done())
	go pub.Run(ctx, 2)
	return nil
}
