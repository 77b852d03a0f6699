// Package rbac decides API requests from RBAC objects, as Kubernetes' RBAC
// authorizer does: the rules of the Roles and ClusterRoles bound to a user
// (by name, group or ServiceAccount) through RoleBindings in the request's
// namespace and ClusterRoleBindings. It reads the objects from shared-informer
// listers and never writes. The RuleResolver it is built on also answers
// "which rules apply to this user here", for escalation checks and
// SelfSubjectRulesReview.
package rbac

import (
	"context"
	"fmt"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/labels"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apiserver/pkg/authentication/serviceaccount"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/client-go/informers"
	rbaclisters "k8s.io/client-go/listers/rbac/v1"
)

// RuleResolver finds the rules that apply to a user.
type RuleResolver struct {
	Roles               rbaclisters.RoleLister
	RoleBindings        rbaclisters.RoleBindingLister
	ClusterRoles        rbaclisters.ClusterRoleLister
	ClusterRoleBindings rbaclisters.ClusterRoleBindingLister
}

// NewRuleResolver reads the RBAC objects from the factory's informers (the
// caller starts the factory).
func NewRuleResolver(f informers.SharedInformerFactory) *RuleResolver {
	r := f.Rbac().V1()
	return &RuleResolver{
		Roles:               r.Roles().Lister(),
		RoleBindings:        r.RoleBindings().Lister(),
		ClusterRoles:        r.ClusterRoles().Lister(),
		ClusterRoleBindings: r.ClusterRoleBindings().Lister(),
	}
}

// GetRoleReferenceRules returns the rules of the role a binding in namespace
// refers to (a Role of that namespace, or a ClusterRole).
func (r *RuleResolver) GetRoleReferenceRules(ref rbacv1.RoleRef, namespace string) ([]rbacv1.PolicyRule, error) {
	switch ref.Kind {
	case "Role":
		role, err := r.Roles.Roles(namespace).Get(ref.Name)
		if err != nil {
			return nil, err
		}
		return role.Rules, nil
	case "ClusterRole":
		role, err := r.ClusterRoles.Get(ref.Name)
		if err != nil {
			return nil, err
		}
		return role.Rules, nil
	default:
		return nil, fmt.Errorf("unsupported role reference kind: %q", ref.Kind)
	}
}

// VisitRulesFor calls visit with every rule that applies to u in namespace
// (cluster-wide rules first), or with the error of a binding whose role
// cannot be read. visit returns false to stop.
func (r *RuleResolver) VisitRulesFor(u user.Info, namespace string, visit func(source string, rule *rbacv1.PolicyRule, err error) bool) {
	crbs, err := r.ClusterRoleBindings.List(labels.Everything())
	if err != nil {
		if !visit("", nil, err) {
			return
		}
	}
	for _, b := range crbs {
		if _, ok := appliesTo(u, b.Subjects, ""); !ok {
			continue
		}
		rules, err := r.GetRoleReferenceRules(b.RoleRef, "")
		if err != nil {
			if !visit("", nil, err) {
				return
			}
			continue
		}
		source := fmt.Sprintf("ClusterRoleBinding %q of ClusterRole %q", b.Name, b.RoleRef.Name)
		for i := range rules {
			if !visit(source, &rules[i], nil) {
				return
			}
		}
	}
	if namespace == "" {
		return
	}
	rbs, err := r.RoleBindings.RoleBindings(namespace).List(labels.Everything())
	if err != nil {
		if !visit("", nil, err) {
			return
		}
	}
	for _, b := range rbs {
		if _, ok := appliesTo(u, b.Subjects, namespace); !ok {
			continue
		}
		rules, err := r.GetRoleReferenceRules(b.RoleRef, namespace)
		if err != nil {
			if !visit("", nil, err) {
				return
			}
			continue
		}
		source := fmt.Sprintf("RoleBinding %q of %s %q in namespace %q", b.Name, b.RoleRef.Kind, b.RoleRef.Name, namespace)
		for i := range rules {
			if !visit(source, &rules[i], nil) {
				return
			}
		}
	}
}

// RulesFor returns every rule that applies to u in namespace, and the
// errors met resolving them.
func (r *RuleResolver) RulesFor(u user.Info, namespace string) ([]rbacv1.PolicyRule, error) {
	var rules []rbacv1.PolicyRule
	var errs []error
	r.VisitRulesFor(u, namespace, func(_ string, rule *rbacv1.PolicyRule, err error) bool {
		if rule != nil {
			rules = append(rules, *rule)
		}
		if err != nil {
			errs = append(errs, err)
		}
		return true
	})
	return rules, utilerrors.NewAggregate(errs)
}

// appliesTo reports whether one of subjects is u; namespace is the binding's
// (ServiceAccount subjects without a namespace default to it).
func appliesTo(u user.Info, subjects []rbacv1.Subject, namespace string) (int, bool) {
	for i := range subjects {
		if subjectMatches(u, &subjects[i], namespace) {
			return i, true
		}
	}
	return 0, false
}

func subjectMatches(u user.Info, s *rbacv1.Subject, namespace string) bool {
	switch s.Kind {
	case rbacv1.UserKind:
		return u.GetName() == s.Name
	case rbacv1.GroupKind:
		for _, g := range u.GetGroups() {
			if g == s.Name {
				return true
			}
		}
		return false
	case rbacv1.ServiceAccountKind:
		ns := s.Namespace
		if ns == "" {
			ns = namespace
		}
		if ns == "" {
			return false
		}
		return serviceaccount.MakeUsername(ns, s.Name) == u.GetName()
	}
	return false
}

// Authorizer allows a request when an RBAC rule applying to its user allows
// it; otherwise it has no opinion.
type Authorizer struct {
	Resolver *RuleResolver
}

var (
	_ authorizer.Authorizer   = &Authorizer{}
	_ authorizer.RuleResolver = &Authorizer{}
)

// New returns an RBAC authorizer reading the factory's informers.
func New(f informers.SharedInformerFactory) *Authorizer {
	return &Authorizer{Resolver: NewRuleResolver(f)}
}

// Authorize implements authorizer.Authorizer.
func (a *Authorizer) Authorize(ctx context.Context, attrs authorizer.Attributes) (authorizer.Decision, string, error) {
	u := attrs.GetUser()
	if u == nil {
		return authorizer.DecisionNoOpinion, "no user on the request", nil
	}
	allowed := false
	var errs []error
	a.Resolver.VisitRulesFor(u, attrs.GetNamespace(), func(_ string, rule *rbacv1.PolicyRule, err error) bool {
		if rule != nil && RuleAllows(attrs, rule) {
			allowed = true
			return false
		}
		if err != nil {
			errs = append(errs, err)
		}
		return true
	})
	if allowed {
		return authorizer.DecisionAllow, "", nil
	}
	reason := ""
	if len(errs) > 0 {
		reason = fmt.Sprintf("RBAC: %v", utilerrors.NewAggregate(errs))
	}
	return authorizer.DecisionNoOpinion, reason, nil
}

// RulesFor implements authorizer.RuleResolver (SelfSubjectRulesReview).
func (a *Authorizer) RulesFor(ctx context.Context, u user.Info, namespace string) ([]authorizer.ResourceRuleInfo, []authorizer.NonResourceRuleInfo, bool, error) {
	var res []authorizer.ResourceRuleInfo
	var nonRes []authorizer.NonResourceRuleInfo
	rules, err := a.Resolver.RulesFor(u, namespace)
	for _, r := range rules {
		if len(r.Resources) > 0 {
			res = append(res, &authorizer.DefaultResourceRuleInfo{
				Verbs: r.Verbs, APIGroups: r.APIGroups, Resources: r.Resources, ResourceNames: r.ResourceNames})
		}
		if len(r.NonResourceURLs) > 0 {
			nonRes = append(nonRes, &authorizer.DefaultNonResourceRuleInfo{Verbs: r.Verbs, NonResourceURLs: r.NonResourceURLs})
		}
	}
	return res, nonRes, err != nil, err
}

// RuleAllows reports whether rule allows the request.
func RuleAllows(attrs authorizer.Attributes, rule *rbacv1.PolicyRule) bool {
	if attrs.IsResourceRequest() {
		resource := attrs.GetResource()
		if sub := attrs.GetSubresource(); sub != "" {
			resource += "/" + sub
		}
		return VerbMatches(rule, attrs.GetVerb()) &&
			APIGroupMatches(rule, attrs.GetAPIGroup()) &&
			ResourceMatches(rule, resource, attrs.GetSubresource()) &&
			ResourceNameMatches(rule, attrs.GetName())
	}
	return VerbMatches(rule, attrs.GetVerb()) && NonResourceURLMatches(rule, attrs.GetPath())
}

// VerbMatches: the rule names the verb or "*".
func VerbMatches(rule *rbacv1.PolicyRule, verb string) bool {
	return hasOrStar(rule.Verbs, verb)
}

// APIGroupMatches: the rule names the group or "*".
func APIGroupMatches(rule *rbacv1.PolicyRule, group string) bool {
	return hasOrStar(rule.APIGroups, group)
}

// ResourceMatches: the rule names "*", the resource ("pods" or
// "pods/log"), or "*/<subresource>".
func ResourceMatches(rule *rbacv1.PolicyRule, combined, subresource string) bool {
	for _, r := range rule.Resources {
		if r == rbacv1.ResourceAll || r == combined {
			return true
		}
		if subresource != "" && r == "*/"+subresource {
			return true
		}
	}
	return false
}

// ResourceNameMatches: the rule names no resource or names this one.
func ResourceNameMatches(rule *rbacv1.PolicyRule, name string) bool {
	if len(rule.ResourceNames) == 0 {
		return true
	}
	for _, n := range rule.ResourceNames {
		if n == name {
			return true
		}
	}
	return false
}

// NonResourceURLMatches: the rule names "*", the path, or a prefix of it
// ending in "*".
func NonResourceURLMatches(rule *rbacv1.PolicyRule, path string) bool {
	for _, u := range rule.NonResourceURLs {
		if u == rbacv1.NonResourceAll || u == path {
			return true
		}
		if strings.HasSuffix(u, "*") && strings.HasPrefix(path, strings.TrimSuffix(u, "*")) {
			return true
		}
	}
	return false
}

func hasOrStar(list []string, v string) bool {
	for _, x := range list {
		if x == "*" || x == v {
			return true
		}
	}
	return false
}
