package serviceaccount

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/client-go/kubernetes/fake"
	clocktesting "k8s.io/utils/clock/testing"

	satoken "github.com/herd-project/herd/pkg/serviceaccount"
)

// accountGetter serves ServiceAccounts from a fake clientset, as the
// registry store would.
type accountGetter struct{ c *fake.Clientset }

func (g accountGetter) Get(ctx context.Context, name string, _ *metav1.GetOptions) (runtime.Object, error) {
	ns, _ := genericapirequest.NamespaceFrom(ctx)
	return g.c.CoreV1().ServiceAccounts(ns).Get(ctx, name, metav1.GetOptions{})
}

func newTokenREST(t *testing.T) (*TokenREST, *clocktesting.FakeClock) {
	t.Helper()
	key, err := satoken.EnsureKey(filepath.Join(t.TempDir(), "k"))
	if err != nil {
		t.Fatal(err)
	}
	clk := clocktesting.NewFakeClock(time.Unix(1_800_000_000, 0))
	iss, err := satoken.NewIssuer(key, "", nil, clk)
	if err != nil {
		t.Fatal(err)
	}
	c := fake.NewClientset(
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "sa", Namespace: "ns", UID: "sa-uid"}},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", UID: "pod-uid"}, Spec: corev1.PodSpec{ServiceAccountName: "sa", NodeName: "n"}},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "other", Namespace: "ns", UID: "o-uid"}, Spec: corev1.PodSpec{ServiceAccountName: "default"}},
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n", UID: "node-uid"}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "ns", UID: "secret-uid"}},
	)
	iss.SetGetter(satoken.NewGetter(c, nil))
	return NewTokenREST(accountGetter{c}, iss), clk
}

func create(r *TokenREST, name string, spec authenticationv1.TokenRequestSpec) (*authenticationv1.TokenRequest, error) {
	ctx := genericapirequest.WithNamespace(context.Background(), "ns")
	out, err := r.Create(ctx, name, &authenticationv1.TokenRequest{Spec: spec}, nil, &metav1.CreateOptions{})
	if err != nil {
		return nil, err
	}
	return out.(*authenticationv1.TokenRequest), nil
}

func payload(t *testing.T, tok string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]any{}
	json.Unmarshal(b, &m)
	return m
}

func ptr[T any](v T) *T { return &v }

func TestTokenRequestDefaults(t *testing.T) {
	r, clk := newTokenREST(t)
	out, err := create(r, "sa", authenticationv1.TokenRequestSpec{})
	if err != nil {
		t.Fatal(err)
	}
	if *out.Spec.ExpirationSeconds != 3600 || len(out.Spec.Audiences) != 1 || out.Spec.Audiences[0] != satoken.DefaultIssuer {
		t.Errorf("defaults: %+v", out.Spec)
	}
	if !out.Status.ExpirationTimestamp.Time.Equal(clk.Now().Add(time.Hour)) || out.Name != "sa" || out.Namespace != "ns" {
		t.Errorf("status/meta: %+v %s/%s", out.Status.ExpirationTimestamp, out.Namespace, out.Name)
	}
	c := payload(t, out.Status.Token)
	if c["exp"].(float64) != float64(clk.Now().Unix()+3600) || c["sub"] != "system:serviceaccount:ns:sa" {
		t.Errorf("claims %v", c)
	}
}

func TestTokenRequestValidation(t *testing.T) {
	r, _ := newTokenREST(t)
	_, err := create(r, "sa", authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr[int64](599)})
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "spec.expirationSeconds: Invalid value: 599: may not specify a duration less than 10 minutes") {
		t.Errorf("599 s: %v", err)
	}
	_, err = create(r, "sa", authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr[int64](1<<32 + 1)})
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "may not specify a duration larger than 2^32 seconds") {
		t.Errorf("2^32+1 s: %v", err)
	}
	if _, err := create(r, "sa", authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr[int64](600)}); err != nil {
		t.Errorf("600 s: %v", err)
	}
	if _, err := create(r, "nosuch", authenticationv1.TokenRequestSpec{}); !apierrors.IsNotFound(err) {
		t.Errorf("missing account: %v", err)
	}
	ctx := genericapirequest.WithNamespace(context.Background(), "ns")
	_, err = r.Create(ctx, "sa", &authenticationv1.TokenRequest{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, nil, &metav1.CreateOptions{})
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "metadata.name") {
		t.Errorf("name mismatch: %v", err)
	}
}

func TestTokenRequestBoundObjects(t *testing.T) {
	r, _ := newTokenREST(t)
	ref := func(kind, name string, uid string) *authenticationv1.BoundObjectReference {
		return &authenticationv1.BoundObjectReference{Kind: kind, APIVersion: "v1", Name: name, UID: typesUID(uid)}
	}
	out, err := create(r, "sa", authenticationv1.TokenRequestSpec{BoundObjectRef: ref("Pod", "p", "pod-uid")})
	if err != nil {
		t.Fatal(err)
	}
	k := payload(t, out.Status.Token)["kubernetes.io"].(map[string]any)
	if k["pod"].(map[string]any)["uid"] != "pod-uid" || k["node"].(map[string]any)["name"] != "n" {
		t.Errorf("pod-bound claims %v", k)
	}
	out, err = create(r, "sa", authenticationv1.TokenRequestSpec{BoundObjectRef: ref("Secret", "s", "")})
	if err != nil || payload(t, out.Status.Token)["kubernetes.io"].(map[string]any)["secret"] == nil {
		t.Errorf("secret-bound: %v", err)
	}
	out, err = create(r, "sa", authenticationv1.TokenRequestSpec{BoundObjectRef: ref("Node", "n", "node-uid")})
	if err != nil || payload(t, out.Status.Token)["kubernetes.io"].(map[string]any)["node"] == nil {
		t.Errorf("node-bound: %v", err)
	}
	if _, err := create(r, "sa", authenticationv1.TokenRequestSpec{BoundObjectRef: ref("Pod", "gone", "")}); !apierrors.IsNotFound(err) {
		t.Errorf("missing pod: %v", err)
	}
	if _, err := create(r, "sa", authenticationv1.TokenRequestSpec{BoundObjectRef: ref("Pod", "p", "stale")}); !apierrors.IsConflict(err) ||
		!strings.Contains(err.Error(), "does not match the UID in record") {
		t.Errorf("UID mismatch: %v", err)
	}
	if _, err := create(r, "sa", authenticationv1.TokenRequestSpec{BoundObjectRef: ref("Pod", "other", "")}); !apierrors.IsBadRequest(err) {
		t.Errorf("pod of another account: %v", err)
	}
	if _, err := create(r, "sa", authenticationv1.TokenRequestSpec{BoundObjectRef: ref("ConfigMap", "c", "")}); !apierrors.IsBadRequest(err) ||
		!strings.Contains(err.Error(), "cannot bind token to object of type /v1, Kind=ConfigMap") {
		t.Errorf("configmap: %v", err)
	}
}

func TestTokenRequestExtendsKubeAPIAccessTokens(t *testing.T) {
	r, clk := newTokenREST(t)
	pod := &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: "p"}
	out, err := create(r, "sa", authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr[int64](3607), BoundObjectRef: pod})
	if err != nil {
		t.Fatal(err)
	}
	c := payload(t, out.Status.Token)
	now := clk.Now().Unix()
	if c["exp"].(float64) != float64(now+satoken.ExtendedExpirationSeconds) ||
		c["kubernetes.io"].(map[string]any)["warnafter"].(float64) != float64(now+3607) {
		t.Errorf("3607 s pod token: exp %v warnafter %v", c["exp"], c["kubernetes.io"])
	}
	if !out.Status.ExpirationTimestamp.Time.Equal(clk.Now().Add(3607 * time.Second)) {
		t.Errorf("status expiration %v", out.Status.ExpirationTimestamp)
	}
	// Not for other audiences, nor for unbound tokens.
	out, _ = create(r, "sa", authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr[int64](3607), BoundObjectRef: pod, Audiences: []string{"vault"}})
	if c := payload(t, out.Status.Token); c["exp"].(float64) != float64(now+3607) {
		t.Errorf("vault token extended: %v", c["exp"])
	}
	out, _ = create(r, "sa", authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr[int64](3607)})
	if c := payload(t, out.Status.Token); c["exp"].(float64) != float64(now+3607) {
		t.Errorf("unbound token extended: %v", c["exp"])
	}
}

func typesUID(s string) types.UID { return types.UID(s) }
