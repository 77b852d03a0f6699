package authorization

import (
	"context"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
)

// fakeAuthz allows jane to get pods in ns1 and records what it was asked.
type fakeAuthz struct{ last authorizer.Attributes }

func (f *fakeAuthz) Authorize(_ context.Context, a authorizer.Attributes) (authorizer.Decision, string, error) {
	f.last = a
	if a.GetUser().GetName() == "jane" && a.GetVerb() == "get" && a.GetResource() == "pods" && a.GetNamespace() == "ns1" {
		return authorizer.DecisionAllow, "bound", nil
	}
	return authorizer.DecisionNoOpinion, "", nil
}

func (f *fakeAuthz) RulesFor(_ context.Context, u user.Info, ns string) ([]authorizer.ResourceRuleInfo, []authorizer.NonResourceRuleInfo, bool, error) {
	return []authorizer.ResourceRuleInfo{&authorizer.DefaultResourceRuleInfo{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"pods"}}},
		[]authorizer.NonResourceRuleInfo{&authorizer.DefaultNonResourceRuleInfo{Verbs: []string{"get"}, NonResourceURLs: []string{"/healthz"}}}, false, nil
}

func TestSubjectAccessReview(t *testing.T) {
	f := &fakeAuthz{}
	st := Storage(f, f)
	ctx := context.Background()
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{User: "jane",
		ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "get", Resource: "pods", Namespace: "ns1", Name: "p"}}}
	out, err := st["subjectaccessreviews"].(*review).Create(ctx, sar, nil, &metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if s := out.(*authorizationv1.SubjectAccessReview).Status; !s.Allowed || s.Reason != "bound" {
		t.Errorf("status %+v", s)
	}
	if f.last.GetName() != "p" || !f.last.IsResourceRequest() {
		t.Errorf("attributes %+v", f.last)
	}
	// Neither user nor groups, and both kinds of attributes: 422.
	bad := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		ResourceAttributes:    &authorizationv1.ResourceAttributes{Verb: "get"},
		NonResourceAttributes: &authorizationv1.NonResourceAttributes{Verb: "get", Path: "/"}}}
	_, err = st["subjectaccessreviews"].(*review).Create(ctx, bad, nil, &metav1.CreateOptions{})
	if !apierrors.IsInvalid(err) {
		t.Errorf("invalid review: %v", err)
	}
}

func TestSelfAndLocalReviews(t *testing.T) {
	f := &fakeAuthz{}
	st := Storage(f, f)
	ctx := genericapirequest.WithUser(context.Background(), &user.DefaultInfo{Name: "jane"})
	self := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
		ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "get", Resource: "pods", Namespace: "ns1"}}}
	out, err := st["selfsubjectaccessreviews"].(*review).Create(ctx, self, nil, &metav1.CreateOptions{})
	if err != nil || !out.(*authorizationv1.SelfSubjectAccessReview).Status.Allowed {
		t.Fatalf("self review: %v %+v", err, out)
	}
	self.Spec.ResourceAttributes.Namespace = "ns2"
	out, _ = st["selfsubjectaccessreviews"].(*review).Create(ctx, self, nil, &metav1.CreateOptions{})
	if out.(*authorizationv1.SelfSubjectAccessReview).Status.Allowed {
		t.Error("self review in ns2 allowed")
	}

	local := &authorizationv1.LocalSubjectAccessReview{ObjectMeta: metav1.ObjectMeta{Namespace: "ns1"},
		Spec: authorizationv1.SubjectAccessReviewSpec{User: "jane",
			ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "get", Resource: "pods", Namespace: "ns2"}}}
	_, err = st["localsubjectaccessreviews"].(*review).Create(genericapirequest.WithNamespace(ctx, "ns1"), local, nil, &metav1.CreateOptions{})
	if !apierrors.IsBadRequest(err) {
		t.Errorf("local review naming another namespace: %v", err)
	}
	local.Spec.ResourceAttributes.Namespace = "ns1"
	out, err = st["localsubjectaccessreviews"].(*review).Create(genericapirequest.WithNamespace(ctx, "ns1"), local, nil, &metav1.CreateOptions{})
	if err != nil || !out.(*authorizationv1.LocalSubjectAccessReview).Status.Allowed {
		t.Errorf("local review: %v %+v", err, out)
	}

	rules := &authorizationv1.SelfSubjectRulesReview{Spec: authorizationv1.SelfSubjectRulesReviewSpec{Namespace: "ns1"}}
	out, err = st["selfsubjectrulesreviews"].(*rulesReview).Create(ctx, rules, nil, &metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s := out.(*authorizationv1.SelfSubjectRulesReview).Status
	if len(s.ResourceRules) != 1 || len(s.NonResourceRules) != 1 || s.Incomplete {
		t.Errorf("rules status %+v", s)
	}
}
