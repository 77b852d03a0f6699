package authentication

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/user"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
)

// fakeAuthn knows one token, valid for the audiences "api" and "vault".
type fakeAuthn struct{ gotAuds []string }

func (f *fakeAuthn) AuthenticateRequest(req *http.Request) (*authenticator.Response, bool, error) {
	auds, _ := authenticator.AudiencesFrom(req.Context())
	f.gotAuds = auds
	if req.Header.Get("Authorization") != "Bearer good" {
		return nil, false, errors.New("invalid bearer token")
	}
	matched := authenticator.Audiences{"api", "vault"}.Intersect(auds)
	if len(matched) == 0 {
		return nil, false, errors.New("wrong audience")
	}
	return &authenticator.Response{Audiences: matched, User: &user.DefaultInfo{Name: "system:serviceaccount:ns:sa", UID: "u",
		Groups: []string{"system:serviceaccounts"}, Extra: map[string][]string{"k": {"v"}}}}, true, nil
}

func review(t *testing.T, r *TokenReviewREST, spec authenticationv1.TokenReviewSpec) (*authenticationv1.TokenReview, error) {
	t.Helper()
	out, err := r.Create(context.Background(), &authenticationv1.TokenReview{Spec: spec}, nil, &metav1.CreateOptions{})
	if err != nil {
		return nil, err
	}
	return out.(*authenticationv1.TokenReview), nil
}

func TestTokenReview(t *testing.T) {
	a := &fakeAuthn{}
	r := Storage(a, []string{"api"})["tokenreviews"].(*TokenReviewREST)
	out, err := review(t, r, authenticationv1.TokenReviewSpec{Token: "good"})
	if err != nil {
		t.Fatal(err)
	}
	st := out.Status
	if !st.Authenticated || st.User.Username != "system:serviceaccount:ns:sa" || st.User.UID != "u" || st.User.Extra["k"][0] != "v" ||
		len(st.Audiences) != 1 || st.Audiences[0] != "api" || a.gotAuds[0] != "api" {
		t.Errorf("status %+v (asked for %v)", st, a.gotAuds)
	}
	out, _ = review(t, r, authenticationv1.TokenReviewSpec{Token: "good", Audiences: []string{"vault"}})
	if !out.Status.Authenticated || out.Status.Audiences[0] != "vault" {
		t.Errorf("vault: %+v", out.Status)
	}
	out, _ = review(t, r, authenticationv1.TokenReviewSpec{Token: "bad"})
	if out.Status.Authenticated || out.Status.Error != "invalid bearer token" || out.Status.User.Username != "" {
		t.Errorf("bad token: %+v", out.Status)
	}
	if _, err := review(t, r, authenticationv1.TokenReviewSpec{}); !apierrors.IsBadRequest(err) || !strings.Contains(err.Error(), "token is required") {
		t.Errorf("empty token: %v", err)
	}
}

func TestSelfSubjectReview(t *testing.T) {
	r := Storage(nil, nil)["selfsubjectreviews"].(*SelfSubjectReviewREST)
	u := &user.DefaultInfo{Name: "alice", UID: "1", Groups: []string{"devs", "system:authenticated"}, Extra: map[string][]string{"x": {"y"}}}
	ctx := genericapirequest.WithUser(context.Background(), u)
	out, err := r.Create(ctx, &authenticationv1.SelfSubjectReview{}, nil, &metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ui := out.(*authenticationv1.SelfSubjectReview).Status.UserInfo
	if ui.Username != "alice" || ui.UID != "1" || len(ui.Groups) != 2 || ui.Extra["x"][0] != "y" {
		t.Errorf("user info %+v", ui)
	}
	if _, err := r.Create(context.Background(), &authenticationv1.SelfSubjectReview{}, nil, &metav1.CreateOptions{}); !apierrors.IsBadRequest(err) {
		t.Errorf("no user: %v", err)
	}
}
