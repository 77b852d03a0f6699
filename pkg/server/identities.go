package server

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"runtime"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apiserver/pkg/authentication/serviceaccount"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/herd-project/herd/pkg/apiserver"
	rbacbootstrap "github.com/herd-project/herd/pkg/auth/bootstrap"
)

// schedulerIdentity is the scheduler's identity key in identities.
const schedulerIdentity = "kube-scheduler"

// identities are the in-process components' own credentials: a random
// bearer token per controller, generated in memory at every start (never
// written to disk) and mapped by the API server's static token
// authenticator to the controller's ServiceAccount user
// system:serviceaccount:kube-system:<name> — as kube-controller-manager's
// --use-service-account-credentials does — and the scheduler's token to
// the user system:kube-scheduler.
type identities struct {
	tokens map[string]string // component name → token
	users  map[string]*user.DefaultInfo
}

func newIdentities() (*identities, error) {
	ids := &identities{tokens: map[string]string{}, users: map[string]*user.DefaultInfo{}}
	add := func(name string, u *user.DefaultInfo) error {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return fmt.Errorf("generating a token for %s: %w", name, err)
		}
		t := base64.RawURLEncoding.EncodeToString(b)
		ids.tokens[name] = t
		ids.users[t] = u
		return nil
	}
	for _, n := range rbacbootstrap.ControllerNames() {
		u := &user.DefaultInfo{Name: serviceaccount.MakeUsername("kube-system", n),
			Groups: serviceaccount.MakeGroupNames("kube-system")}
		if err := add(n, u); err != nil {
			return nil, err
		}
	}
	if err := add(schedulerIdentity, &user.DefaultInfo{Name: user.KubeScheduler}); err != nil {
		return nil, err
	}
	return ids, nil
}

// addTo adds the identities' tokens to the API server's static tokens.
func (ids *identities) addTo(tokens map[string]*user.DefaultInfo) {
	for t, u := range ids.users {
		tokens[t] = u
	}
}

// config is the loopback connection with name's credentials and a user
// agent naming it.
func (ids *identities) config(loopback *rest.Config, name string) *rest.Config {
	c := rest.CopyConfig(loopback)
	c.BearerToken = ids.tokens[name]
	c.BearerTokenFile = ""
	c.UserAgent = fmt.Sprintf("herd/v%s (%s/%s) %s", apiserver.KubernetesVersion, runtime.GOOS, runtime.GOARCH, name)
	return c
}

// client is a clientset with name's credentials.
func (ids *identities) client(loopback *rest.Config, name string) kubernetes.Interface {
	if _, ok := ids.tokens[name]; !ok {
		panic(fmt.Sprintf("no identity for %q", name))
	}
	return kubernetes.NewForConfigOrDie(ids.config(loopback, name))
}

// waitForPolicyInCache waits until the authorizer's informers hold every
// bootstrap ClusterRoleBinding, so that the controllers' first requests are
// not refused for a binding the cache has not seen yet.
func waitForPolicyInCache(ctx context.Context, f informers.SharedInformerFactory) {
	lister := f.Rbac().V1().ClusterRoleBindings().Lister()
	want := rbacbootstrap.ClusterRoleBindings()
	_ = wait.PollUntilContextCancel(ctx, 50*time.Millisecond, true, func(context.Context) (bool, error) {
		for _, b := range want {
			if _, err := lister.Get(b.Name); err != nil {
				return false, nil
			}
		}
		return true, nil
	})
}
