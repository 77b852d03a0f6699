package serviceaccount

import (
	"context"
	"fmt"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/klog/v2"

	"github.com/herd-project/herd/pkg/registry"
	satoken "github.com/herd-project/herd/pkg/serviceaccount"
)

// Token lifetimes of the TokenRequest API.
const (
	// DefaultExpirationSeconds is spec.expirationSeconds when unset.
	DefaultExpirationSeconds int64 = 60 * 60
	minExpirationSeconds     int64 = 10 * 60
	maxExpirationSeconds     int64 = 1 << 32
)

var tokenRequestGK = schema.GroupKind{Group: authenticationv1.GroupName, Kind: "TokenRequest"}

// WithTokens adds the serviceaccounts/token subresource, backed by issuer,
// to the serviceaccounts definition in defs.
func WithTokens(defs []*registry.Definition, issuer *satoken.Issuer) {
	for _, d := range defs {
		if d.GroupVersion == corev1.SchemeGroupVersion && d.Resource == "serviceaccounts" {
			if d.ExtraStorage == nil {
				d.ExtraStorage = map[string]func(*registry.Store) rest.Storage{}
			}
			d.ExtraStorage["token"] = func(s *registry.Store) rest.Storage { return &TokenREST{accounts: s, issuer: issuer} }
		}
	}
}

// TokenREST serves serviceaccounts/token (TokenRequest, create only).
type TokenREST struct {
	accounts rest.Getter
	issuer   *satoken.Issuer
}

var (
	_ rest.NamedCreater             = &TokenREST{}
	_ rest.GroupVersionKindProvider = &TokenREST{}
	_ rest.SingularNameProvider     = &TokenREST{}
	_ rest.Storage                  = &TokenREST{}
)

// NewTokenREST serves TokenRequests for the service accounts accounts reads.
func NewTokenREST(accounts rest.Getter, issuer *satoken.Issuer) *TokenREST {
	return &TokenREST{accounts: accounts, issuer: issuer}
}

// New implements rest.Storage.
func (r *TokenREST) New() runtime.Object { return &authenticationv1.TokenRequest{} }

// Destroy implements rest.Storage.
func (r *TokenREST) Destroy() {}

// GroupVersionKind implements rest.GroupVersionKindProvider: the
// subresource of a core/v1 resource speaks authentication.k8s.io/v1.
func (r *TokenREST) GroupVersionKind(schema.GroupVersion) schema.GroupVersionKind {
	return authenticationv1.SchemeGroupVersion.WithKind("TokenRequest")
}

// GetSingularName implements rest.SingularNameProvider.
func (r *TokenREST) GetSingularName() string { return "token" }

// ValidateTokenRequest checks spec.expirationSeconds as Kubernetes does.
func ValidateTokenRequest(tr *authenticationv1.TokenRequest) field.ErrorList {
	var errs field.ErrorList
	p := field.NewPath("spec", "expirationSeconds")
	exp := int64(0)
	if tr.Spec.ExpirationSeconds != nil {
		exp = *tr.Spec.ExpirationSeconds
	}
	if exp < minExpirationSeconds {
		errs = append(errs, field.Invalid(p, exp, "may not specify a duration less than 10 minutes"))
	}
	if exp > maxExpirationSeconds {
		errs = append(errs, field.Invalid(p, exp, "may not specify a duration larger than 2^32 seconds"))
	}
	return errs
}

// Create issues a token for service account name.
func (r *TokenREST) Create(ctx context.Context, name string, obj runtime.Object, createValidation rest.ValidateObjectFunc, options *metav1.CreateOptions) (runtime.Object, error) {
	req, ok := obj.(*authenticationv1.TokenRequest)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("not a TokenRequest: %T", obj))
	}
	namespace, ok := genericapirequest.NamespaceFrom(ctx)
	if !ok || namespace == "" {
		return nil, apierrors.NewBadRequest("namespace is required")
	}
	if req.Name != "" && req.Name != name {
		return nil, apierrors.NewInvalid(tokenRequestGK, name, field.ErrorList{
			field.Invalid(field.NewPath("metadata", "name"), req.Name, "must match the service account name if specified")})
	}
	if req.Namespace != "" && req.Namespace != namespace {
		return nil, apierrors.NewInvalid(tokenRequestGK, name, field.ErrorList{
			field.Invalid(field.NewPath("metadata", "namespace"), req.Namespace, "must match the service account namespace if specified")})
	}
	saObj, err := r.accounts.Get(ctx, name, &metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	sa := saObj.(*corev1.ServiceAccount)

	if len(req.Spec.Audiences) == 0 {
		req.Spec.Audiences = append([]string(nil), r.issuer.APIAudiences...)
	}
	if req.Spec.ExpirationSeconds == nil {
		d := DefaultExpirationSeconds
		req.Spec.ExpirationSeconds = &d
	}
	req.Name, req.Namespace = sa.Name, sa.Namespace
	now := r.issuer.Now()
	req.CreationTimestamp = metav1.NewTime(now)
	req.Status = authenticationv1.TokenRequestStatus{}
	if errs := ValidateTokenRequest(req); len(errs) > 0 {
		return nil, apierrors.NewInvalid(tokenRequestGK, "", errs)
	}
	if createValidation != nil {
		if err := createValidation(ctx, req.DeepCopyObject()); err != nil {
			return nil, err
		}
	}

	tr := satoken.Request{ServiceAccount: sa, Audiences: req.Spec.Audiences}
	if ref := req.Spec.BoundObjectRef; ref != nil {
		if err := r.resolveBound(ctx, name, namespace, ref, &tr); err != nil {
			return nil, err
		}
	}
	exp := *req.Spec.ExpirationSeconds
	lifetime := time.Duration(exp) * time.Second
	// Pod-bound tokens of kube-api-access volumes (3607 s) stay valid for
	// a year and only warn after their requested lifetime, so that pods
	// with old clients that do not reload the token keep working.
	if tr.Pod != nil && exp == satoken.WarnOnlyExpirationSeconds && r.kubeAudiences(req.Spec.Audiences) {
		tr.WarnAfter = lifetime
		lifetime = satoken.ExtendedExpirationSeconds * time.Second
	}
	tr.Lifetime = lifetime
	tok, _, err := r.issuer.Issue(tr, now)
	if err != nil {
		return nil, apierrors.NewInternalError(fmt.Errorf("failed to generate token: %w", err))
	}
	out := req.DeepCopy()
	out.Status = authenticationv1.TokenRequestStatus{
		Token:               tok,
		ExpirationTimestamp: metav1.NewTime(now.Add(time.Duration(exp) * time.Second)),
	}
	return out, nil
}

// kubeAudiences: every requested audience is one of the API's.
func (r *TokenREST) kubeAudiences(auds []string) bool {
	for _, a := range auds {
		found := false
		for _, b := range r.issuer.APIAudiences {
			if a == b {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// resolveBound looks up the object a token is to be bound to.
func (r *TokenREST) resolveBound(ctx context.Context, saName, ns string, ref *authenticationv1.BoundObjectReference, tr *satoken.Request) error {
	g := r.issuer.Getter()
	if g == nil {
		return apierrors.NewServiceUnavailable("the API server is still starting")
	}
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	if err != nil {
		return apierrors.NewBadRequest(fmt.Sprintf("invalid boundObjectRef.apiVersion %q: %v", ref.APIVersion, err))
	}
	gvk := gv.WithKind(ref.Kind)
	var uid, gotUID string
	uid = string(ref.UID)
	switch {
	case gvk.Group == "" && gvk.Kind == "Pod":
		pod, err := g.Pod(ctx, ns, ref.Name, ref.UID)
		if err != nil {
			return err
		}
		if pod.Spec.ServiceAccountName != saName {
			return apierrors.NewBadRequest(fmt.Sprintf("cannot bind token for serviceaccount %q to pod running with different serviceaccount name.", saName))
		}
		tr.Pod, gotUID = pod, string(pod.UID)
		if pod.Spec.NodeName != "" {
			node, err := g.Node(ctx, pod.Spec.NodeName, "")
			switch {
			case err == nil:
				tr.Node = node
			case apierrors.IsNotFound(err):
				klog.V(2).InfoS("token bound to a pod whose node is gone; the token carries no node", "pod", klog.KObj(pod), "node", pod.Spec.NodeName)
			default:
				return err
			}
		}
	case gvk.Group == "" && gvk.Kind == "Node":
		node, err := g.Node(ctx, ref.Name, ref.UID)
		if err != nil {
			return err
		}
		tr.Node, gotUID = node, string(node.UID)
	case gvk.Group == "" && gvk.Kind == "Secret":
		s, err := g.Secret(ctx, ns, ref.Name, ref.UID)
		if err != nil {
			return err
		}
		tr.Secret, gotUID = s, string(s.UID)
	default:
		return apierrors.NewBadRequest(fmt.Sprintf("cannot bind token to object of type %s", gvk.String()))
	}
	if uid != "" && uid != gotUID {
		return apierrors.NewConflict(schema.GroupResource{Group: gvk.Group, Resource: gvk.Kind}, ref.Name,
			fmt.Errorf("the UID in the bound object reference (%s) does not match the UID in record. The object might have been deleted and then recreated", uid))
	}
	return nil
}
