// Package authentication serves authentication.k8s.io/v1's virtual
// resources: TokenReview (is this bearer token valid, and whose is it) and
// SelfSubjectReview (who am I, `kubectl auth whoami`). Neither is stored.
package authentication

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	authenticationv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/user"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/klog/v2"
)

// Storage returns the resources of authentication.k8s.io/v1, keyed as
// APIGroupInfo.VersionedResourcesStorageMap wants. authn is the API
// server's request authenticator; apiAudiences the API's own audiences.
func Storage(authn authenticator.Request, apiAudiences []string) map[string]rest.Storage {
	return map[string]rest.Storage{
		"tokenreviews":       &TokenReviewREST{authn: authn, apiAudiences: apiAudiences},
		"selfsubjectreviews": &SelfSubjectReviewREST{},
	}
}

// TokenReviewREST serves tokenreviews (create only).
type TokenReviewREST struct {
	authn        authenticator.Request
	apiAudiences []string
}

var (
	_ rest.Creater              = &TokenReviewREST{}
	_ rest.Scoper               = &TokenReviewREST{}
	_ rest.SingularNameProvider = &TokenReviewREST{}
	_ rest.Creater              = &SelfSubjectReviewREST{}
	_ rest.Scoper               = &SelfSubjectReviewREST{}
	_ rest.SingularNameProvider = &SelfSubjectReviewREST{}
)

func (r *TokenReviewREST) New() runtime.Object     { return &authenticationv1.TokenReview{} }
func (r *TokenReviewREST) Destroy()                {}
func (r *TokenReviewREST) NamespaceScoped() bool   { return false }
func (r *TokenReviewREST) GetSingularName() string { return "tokenreview" }

// errAudiences: the authenticator answered for other audiences than asked.
var errAudiences = errors.New("error validating audiences")

// Create authenticates spec.token as a request carrying it would be.
func (r *TokenReviewREST) Create(ctx context.Context, obj runtime.Object, createValidation rest.ValidateObjectFunc, options *metav1.CreateOptions) (runtime.Object, error) {
	tr, ok := obj.(*authenticationv1.TokenReview)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("not a TokenReview: %T", obj))
	}
	if tr.Spec.Token == "" {
		return nil, apierrors.NewBadRequest("token is required for TokenReview in authentication.k8s.io/v1")
	}
	if createValidation != nil {
		if err := createValidation(ctx, obj.DeepCopyObject()); err != nil {
			return nil, err
		}
	}
	if r.authn == nil {
		return nil, apierrors.NewServiceUnavailable("no authenticator configured")
	}
	fake := (&http.Request{Header: http.Header{}}).WithContext(context.Background())
	fake.Header.Set("Authorization", "Bearer "+tr.Spec.Token)
	auds := tr.Spec.Audiences
	if len(auds) == 0 {
		auds = r.apiAudiences
	}
	if len(auds) > 0 {
		fake = fake.WithContext(authenticator.WithAudiences(fake.Context(), auds))
	}
	resp, ok, err := r.authn.AuthenticateRequest(fake)
	out := tr.DeepCopy()
	out.Status = authenticationv1.TokenReviewStatus{Authenticated: ok}
	if err != nil {
		out.Status.Error = err.Error()
	}
	if ok && resp != nil {
		if len(auds) > 0 && len(authenticator.Audiences(auds).Intersect(resp.Audiences)) == 0 {
			klog.ErrorS(errAudiences, "token authenticator answered for other audiences", "requested", auds, "got", resp.Audiences)
			return nil, apierrors.NewInternalError(errAudiences)
		}
		if resp.User != nil {
			out.Status.User = userInfo(resp.User)
		}
		if len(auds) > 0 {
			out.Status.Audiences = resp.Audiences
		}
	}
	return out, nil
}

// SelfSubjectReviewREST serves selfsubjectreviews (create only): the
// requester's own user information.
type SelfSubjectReviewREST struct{}

func (r *SelfSubjectReviewREST) New() runtime.Object     { return &authenticationv1.SelfSubjectReview{} }
func (r *SelfSubjectReviewREST) Destroy()                {}
func (r *SelfSubjectReviewREST) NamespaceScoped() bool   { return false }
func (r *SelfSubjectReviewREST) GetSingularName() string { return "selfsubjectreview" }

// Create answers with the requester's user.
func (r *SelfSubjectReviewREST) Create(ctx context.Context, obj runtime.Object, createValidation rest.ValidateObjectFunc, options *metav1.CreateOptions) (runtime.Object, error) {
	ssr, ok := obj.(*authenticationv1.SelfSubjectReview)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("not a SelfSubjectReview: %T", obj))
	}
	if createValidation != nil {
		if err := createValidation(ctx, obj.DeepCopyObject()); err != nil {
			return nil, err
		}
	}
	u, ok := genericapirequest.UserFrom(ctx)
	if !ok {
		return nil, apierrors.NewBadRequest("no user in the request")
	}
	out := &authenticationv1.SelfSubjectReview{ObjectMeta: ssr.ObjectMeta}
	out.CreationTimestamp = metav1.Now()
	out.Status.UserInfo = userInfo(u)
	return out, nil
}

func userInfo(u user.Info) authenticationv1.UserInfo {
	ui := authenticationv1.UserInfo{Username: u.GetName(), UID: u.GetUID(), Groups: u.GetGroups()}
	if extra := u.GetExtra(); len(extra) > 0 {
		ui.Extra = make(map[string]authenticationv1.ExtraValue, len(extra))
		for k, v := range extra {
			ui.Extra[k] = authenticationv1.ExtraValue(v)
		}
	}
	return ui
}
