// Package authorization serves authorization.k8s.io/v1: SubjectAccessReview,
// SelfSubjectAccessReview, LocalSubjectAccessReview and
// SelfSubjectRulesReview. They are create-only and never stored: a create
// asks the API server's authorizer (or rule resolver) and returns the object
// with its status filled in, which is what `kubectl auth can-i` reads.
package authorization

import (
	"context"
	"fmt"

	authorizationv1 "k8s.io/api/authorization/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"
)

// Storage returns the four review resources, keyed as the API group's
// storage map expects.
func Storage(a authorizer.Authorizer, r authorizer.RuleResolver) map[string]rest.Storage {
	return map[string]rest.Storage{
		"subjectaccessreviews":      &review{authz: a, kind: sar},
		"selfsubjectaccessreviews":  &review{authz: a, kind: selfSAR},
		"localsubjectaccessreviews": &review{authz: a, kind: localSAR},
		"selfsubjectrulesreviews":   &rulesReview{rules: r},
	}
}

type reviewKind int

const (
	sar reviewKind = iota
	selfSAR
	localSAR
)

// review serves one of the three access reviews.
type review struct {
	authz authorizer.Authorizer
	kind  reviewKind
}

var (
	_ rest.Creater              = &review{}
	_ rest.Scoper               = &review{}
	_ rest.SingularNameProvider = &review{}
	_ rest.Storage              = &review{}
)

func (r *review) New() runtime.Object {
	switch r.kind {
	case selfSAR:
		return &authorizationv1.SelfSubjectAccessReview{}
	case localSAR:
		return &authorizationv1.LocalSubjectAccessReview{}
	}
	return &authorizationv1.SubjectAccessReview{}
}

func (r *review) Destroy() {}

func (r *review) NamespaceScoped() bool { return r.kind == localSAR }

func (r *review) GetSingularName() string {
	switch r.kind {
	case selfSAR:
		return "selfsubjectaccessreview"
	case localSAR:
		return "localsubjectaccessreview"
	}
	return "subjectaccessreview"
}

func (r *review) resource() schema.GroupResource {
	return schema.GroupResource{Group: authorizationv1.GroupName, Resource: r.GetSingularName() + "s"}
}

func (r *review) kindName() string {
	switch r.kind {
	case selfSAR:
		return "SelfSubjectAccessReview"
	case localSAR:
		return "LocalSubjectAccessReview"
	}
	return "SubjectAccessReview"
}

// Create answers the review.
func (r *review) Create(ctx context.Context, obj runtime.Object, createValidation rest.ValidateObjectFunc, options *metav1.CreateOptions) (runtime.Object, error) {
	var (
		meta   *metav1.ObjectMeta
		spec   authorizationv1.SubjectAccessReviewSpec
		status *authorizationv1.SubjectAccessReviewStatus
		u      user.Info
		errs   field.ErrorList
	)
	switch o := obj.(type) {
	case *authorizationv1.SubjectAccessReview:
		meta, spec, status = &o.ObjectMeta, o.Spec, &o.Status
		if spec.User == "" && len(spec.Groups) == 0 {
			errs = append(errs, field.Invalid(field.NewPath("spec", "user"), spec.User, "at least one of user or group must be specified"))
		}
		extra := map[string][]string{}
		for k, v := range spec.Extra {
			extra[k] = v
		}
		u = &user.DefaultInfo{Name: spec.User, UID: spec.UID, Groups: spec.Groups, Extra: extra}
	case *authorizationv1.SelfSubjectAccessReview:
		meta, status = &o.ObjectMeta, &o.Status
		spec = authorizationv1.SubjectAccessReviewSpec{ResourceAttributes: o.Spec.ResourceAttributes, NonResourceAttributes: o.Spec.NonResourceAttributes}
		var ok bool
		if u, ok = genericapirequest.UserFrom(ctx); !ok {
			return nil, apierrors.NewBadRequest("no user present on request")
		}
	case *authorizationv1.LocalSubjectAccessReview:
		meta, spec, status = &o.ObjectMeta, o.Spec, &o.Status
		if spec.User == "" && len(spec.Groups) == 0 {
			errs = append(errs, field.Invalid(field.NewPath("spec", "user"), spec.User, "at least one of user or group must be specified"))
		}
		if spec.NonResourceAttributes != nil {
			errs = append(errs, field.Invalid(field.NewPath("spec", "nonResourceAttributes"), spec.NonResourceAttributes, "disallowed on this kind of request"))
		}
		ns, _ := genericapirequest.NamespaceFrom(ctx)
		if spec.ResourceAttributes != nil && spec.ResourceAttributes.Namespace != ns {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("spec.resourceAttributes.namespace must match namespace: %v", ns))
		}
		extra := map[string][]string{}
		for k, v := range spec.Extra {
			extra[k] = v
		}
		u = &user.DefaultInfo{Name: spec.User, UID: spec.UID, Groups: spec.Groups, Extra: extra}
	default:
		return nil, apierrors.NewBadRequest(fmt.Sprintf("not a %s: %T", r.kindName(), obj))
	}
	// The handler's managed fields aside, metadata must be empty.
	m := *meta
	m.Namespace = ""
	m.ManagedFields = nil
	if !apiequality.Semantic.DeepEqual(metav1.ObjectMeta{}, m) {
		errs = append(errs, field.Invalid(field.NewPath("metadata"), *meta, "must be empty"))
	}
	switch {
	case spec.ResourceAttributes != nil && spec.NonResourceAttributes != nil:
		errs = append(errs, field.Invalid(field.NewPath("spec", "nonResourceAttributes"), spec.NonResourceAttributes, "cannot be specified in combination with resourceAttributes"))
	case spec.ResourceAttributes == nil && spec.NonResourceAttributes == nil:
		errs = append(errs, field.Invalid(field.NewPath("spec", "resourceAttributes"), spec.ResourceAttributes, "exactly one of nonResourceAttributes or resourceAttributes must be specified"))
	}
	if len(errs) > 0 {
		return nil, apierrors.NewInvalid(authorizationv1.SchemeGroupVersion.WithKind(r.kindName()).GroupKind(), "", errs)
	}
	if createValidation != nil {
		if err := createValidation(ctx, obj.DeepCopyObject()); err != nil {
			return nil, err
		}
	}
	attrs := Attributes(u, spec)
	decision, reason, err := r.authz.Authorize(ctx, attrs)
	*status = authorizationv1.SubjectAccessReviewStatus{
		Allowed: decision == authorizer.DecisionAllow,
		Denied:  decision == authorizer.DecisionDeny,
		Reason:  reason,
	}
	if err != nil {
		status.EvaluationError = err.Error()
	}
	return obj, nil
}

// Attributes turns a review's spec into the attributes an authorizer decides.
func Attributes(u user.Info, spec authorizationv1.SubjectAccessReviewSpec) authorizer.AttributesRecord {
	if ra := spec.ResourceAttributes; ra != nil {
		return authorizer.AttributesRecord{
			User: u, Verb: ra.Verb, Namespace: ra.Namespace, APIGroup: ra.Group, APIVersion: ra.Version,
			Resource: ra.Resource, Subresource: ra.Subresource, Name: ra.Name, ResourceRequest: true,
		}
	}
	nra := spec.NonResourceAttributes
	return authorizer.AttributesRecord{User: u, Verb: nra.Verb, Path: nra.Path, ResourceRequest: false}
}

// rulesReview serves SelfSubjectRulesReview.
type rulesReview struct {
	rules authorizer.RuleResolver
}

var (
	_ rest.Creater              = &rulesReview{}
	_ rest.Scoper               = &rulesReview{}
	_ rest.SingularNameProvider = &rulesReview{}
)

func (r *rulesReview) New() runtime.Object     { return &authorizationv1.SelfSubjectRulesReview{} }
func (r *rulesReview) Destroy()                {}
func (r *rulesReview) NamespaceScoped() bool   { return false }
func (r *rulesReview) GetSingularName() string { return "selfsubjectrulesreview" }

// Create lists the rules that apply to the requesting user in spec.namespace.
func (r *rulesReview) Create(ctx context.Context, obj runtime.Object, createValidation rest.ValidateObjectFunc, options *metav1.CreateOptions) (runtime.Object, error) {
	review, ok := obj.(*authorizationv1.SelfSubjectRulesReview)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("not a SelfSubjectRulesReview: %T", obj))
	}
	u, ok := genericapirequest.UserFrom(ctx)
	if !ok {
		return nil, apierrors.NewBadRequest("no user present on request")
	}
	if review.Spec.Namespace == "" {
		return nil, apierrors.NewBadRequest("no namespace on request")
	}
	if createValidation != nil {
		if err := createValidation(ctx, obj.DeepCopyObject()); err != nil {
			return nil, err
		}
	}
	res, nonRes, incomplete, err := r.rules.RulesFor(ctx, u, review.Spec.Namespace)
	status := authorizationv1.SubjectRulesReviewStatus{Incomplete: incomplete,
		ResourceRules: []authorizationv1.ResourceRule{}, NonResourceRules: []authorizationv1.NonResourceRule{}}
	for _, rr := range res {
		status.ResourceRules = append(status.ResourceRules, authorizationv1.ResourceRule{
			Verbs: rr.GetVerbs(), APIGroups: rr.GetAPIGroups(), Resources: rr.GetResources(), ResourceNames: rr.GetResourceNames()})
	}
	for _, nr := range nonRes {
		status.NonResourceRules = append(status.NonResourceRules, authorizationv1.NonResourceRule{
			Verbs: nr.GetVerbs(), NonResourceURLs: nr.GetNonResourceURLs()})
	}
	if err != nil {
		status.EvaluationError = err.Error()
	}
	review.Status = status
	return review, nil
}
