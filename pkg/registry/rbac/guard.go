// Package rbac holds what the four rbac.authorization.k8s.io/v1 resources
// share in the API server: escalation prevention. A user may write a Role or
// ClusterRole only with permissions they already hold (or the "escalate"
// verb), and a binding only to a role whose permissions they hold in the
// binding's scope (or the "bind" verb on that role); members of
// system:masters are exempt. The per-resource packages under
// pkg/registry/rbac/<resource> define the resources themselves.
package rbac

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	rbacv1 "k8s.io/api/rbac/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"
	rbachelpers "k8s.io/component-helpers/auth/rbac/validation"

	rbacauth "github.com/herd-project/herd/pkg/auth/authorizer/rbac"
	"github.com/herd-project/herd/pkg/registry"
)

// Guard checks RBAC writes for escalation. It is created before the API
// server and given its authorizer and rule resolver once they exist (Set);
// until then every non-exempt write is refused.
type Guard struct {
	mu       sync.RWMutex
	authz    authorizer.Authorizer
	resolver *rbacauth.RuleResolver
}

// NewGuard returns a guard without an authorizer yet.
func NewGuard() *Guard { return &Guard{} }

// Set gives the guard the authorizer (for the bind and escalate verbs) and
// the rule resolver (for the permissions a user holds).
func (g *Guard) Set(a authorizer.Authorizer, r *rbacauth.RuleResolver) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.authz, g.resolver = a, r
}

func (g *Guard) get() (authorizer.Authorizer, *rbacauth.RuleResolver) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.authz, g.resolver
}

// EscalationAllowed: members of system:masters may grant anything.
func EscalationAllowed(u user.Info) bool {
	if u == nil {
		return false
	}
	for _, grp := range u.GetGroups() {
		if grp == user.SystemPrivilegedGroup {
			return true
		}
	}
	return false
}

func (g *Guard) allowed(ctx context.Context, attrs authorizer.AttributesRecord) bool {
	a, _ := g.get()
	if a == nil {
		return false
	}
	d, _, err := a.Authorize(ctx, attrs)
	return err == nil && d == authorizer.DecisionAllow
}

// ConfirmRole refuses (403) writing a role with rules the user does not hold,
// unless the user may escalate on roles of that kind in that scope.
func (g *Guard) ConfirmRole(ctx context.Context, gr schema.GroupResource, name, namespace string, rules []rbacv1.PolicyRule) error {
	u, _ := genericapirequest.UserFrom(ctx)
	if EscalationAllowed(u) {
		return nil
	}
	if u != nil && g.allowed(ctx, authorizer.AttributesRecord{User: u, Verb: "escalate", APIGroup: rbacv1.GroupName,
		APIVersion: "*", Resource: gr.Resource, Name: name, Namespace: namespace, ResourceRequest: true}) {
		return nil
	}
	if err := g.confirmNoEscalation(u, namespace, rules); err != nil {
		return apierrors.NewForbidden(gr, name, err)
	}
	return nil
}

// ConfirmBinding refuses (403) a binding in namespace ("" for a
// ClusterRoleBinding) to a role whose permissions the user does not hold
// there, unless the user has the bind verb on that role.
func (g *Guard) ConfirmBinding(ctx context.Context, gr schema.GroupResource, name, namespace string, ref rbacv1.RoleRef) error {
	u, _ := genericapirequest.UserFrom(ctx)
	if EscalationAllowed(u) {
		return nil
	}
	resource := "clusterroles"
	if ref.Kind == "Role" {
		resource = "roles"
	}
	if u != nil && g.allowed(ctx, authorizer.AttributesRecord{User: u, Verb: "bind", APIGroup: rbacv1.GroupName,
		APIVersion: "*", Resource: resource, Name: ref.Name, Namespace: namespace, ResourceRequest: true}) {
		return nil
	}
	_, resolver := g.get()
	if resolver == nil {
		return apierrors.NewServiceUnavailable("RBAC is not ready yet; retry")
	}
	rules, err := resolver.GetRoleReferenceRules(ref, namespace)
	if err != nil {
		if apierrors.IsNotFound(err) {
			return err
		}
		return apierrors.NewInternalError(err)
	}
	if err := g.confirmNoEscalation(u, namespace, rules); err != nil {
		return apierrors.NewForbidden(gr, name, err)
	}
	return nil
}

// confirmNoEscalation fails when rules are not all covered by the rules the
// user holds in namespace, naming the missing permissions.
func (g *Guard) confirmNoEscalation(u user.Info, namespace string, rules []rbacv1.PolicyRule) error {
	if u == nil {
		return fmt.Errorf("no user on the request")
	}
	_, resolver := g.get()
	var owner []rbacv1.PolicyRule
	var resolveErr error
	if resolver == nil {
		resolveErr = fmt.Errorf("RBAC is not ready yet")
	} else {
		owner, resolveErr = resolver.RulesFor(u, namespace)
	}
	ok, missing := rbachelpers.Covers(owner, rules)
	if ok {
		return nil
	}
	descriptions := map[string]bool{}
	for _, r := range CompactRules(missing) {
		descriptions[CompactString(r)] = true
	}
	list := make([]string, 0, len(descriptions))
	for d := range descriptions {
		list = append(list, d)
	}
	sort.Strings(list)
	msg := fmt.Sprintf("user %q (groups=%q) is attempting to grant RBAC permissions not currently held:\n%s",
		u.GetName(), u.GetGroups(), strings.Join(list, "\n"))
	if resolveErr != nil {
		msg += fmt.Sprintf("; resolution errors: %v", resolveErr)
	}
	return fmt.Errorf("%s", msg)
}

// CompactRules merges the verbs of simple rules (one API group, one
// resource, no names) that differ only in their verbs.
func CompactRules(rules []rbacv1.PolicyRule) []rbacv1.PolicyRule {
	type key struct{ group, resource string }
	merged := map[key]int{}
	var out []rbacv1.PolicyRule
	for _, r := range rules {
		simple := len(r.APIGroups) == 1 && len(r.Resources) == 1 && len(r.ResourceNames) == 0 && len(r.NonResourceURLs) == 0
		if !simple {
			out = append(out, *r.DeepCopy())
			continue
		}
		k := key{r.APIGroups[0], r.Resources[0]}
		if i, ok := merged[k]; ok {
			for _, v := range r.Verbs {
				if !contains(out[i].Verbs, v) {
					out[i].Verbs = append(out[i].Verbs, v)
				}
			}
			continue
		}
		merged[k] = len(out)
		out = append(out, *r.DeepCopy())
	}
	return out
}

// CompactString is the short form of a rule used in escalation messages,
// e.g. {APIGroups:["apps"], Resources:["deployments"], Verbs:["get" "list"]}.
func CompactString(r rbacv1.PolicyRule) string {
	var parts []string
	if len(r.APIGroups) > 0 {
		parts = append(parts, fmt.Sprintf("APIGroups:%q", r.APIGroups))
	}
	if len(r.Resources) > 0 {
		parts = append(parts, fmt.Sprintf("Resources:%q", r.Resources))
	}
	if len(r.NonResourceURLs) > 0 {
		parts = append(parts, fmt.Sprintf("NonResourceURLs:%q", r.NonResourceURLs))
	}
	if len(r.ResourceNames) > 0 {
		parts = append(parts, fmt.Sprintf("ResourceNames:%q", r.ResourceNames))
	}
	if len(r.Verbs) > 0 {
		parts = append(parts, fmt.Sprintf("Verbs:%q", r.Verbs))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// OnlyGCFieldsChanged: an update touching only ownerReferences and
// finalizers (what the garbage collector writes) needs no escalation check.
func OnlyGCFieldsChanged(obj, old runtime.Object) bool {
	a, b := obj.DeepCopyObject(), old.DeepCopyObject()
	ma, err1 := meta.Accessor(a)
	mb, err2 := meta.Accessor(b)
	if err1 != nil || err2 != nil {
		return false
	}
	for _, m := range []metav1.Object{ma, mb} {
		m.SetOwnerReferences(nil)
		m.SetFinalizers(nil)
		m.SetResourceVersion("")
		m.SetManagedFields(nil)
	}
	return apiequality.Semantic.DeepEqual(a, b)
}

// Check inspects the object being written and returns the 403 error that
// refuses it, or nil.
type Check func(ctx context.Context, obj runtime.Object) error

// GuardedREST is the storage of an RBAC resource: the generic store whose
// create and update first pass the escalation check.
type GuardedREST struct {
	*registry.Store
	check Check
}

var _ rest.StandardStorage = &GuardedREST{}

// Wrap returns a WrapMain function guarding the store with check.
func Wrap(check Check) func(store *registry.Store) rest.Storage {
	return func(store *registry.Store) rest.Storage { return &GuardedREST{Store: store, check: check} }
}

// Create checks the new object, then stores it.
func (r *GuardedREST) Create(ctx context.Context, obj runtime.Object, createValidation rest.ValidateObjectFunc, options *metav1.CreateOptions) (runtime.Object, error) {
	if err := r.check(ctx, obj); err != nil {
		return nil, err
	}
	return r.Store.Create(ctx, obj, createValidation, options)
}

// Update checks the updated object (unless only GC fields change), then
// stores it.
func (r *GuardedREST) Update(ctx context.Context, name string, objInfo rest.UpdatedObjectInfo, createValidation rest.ValidateObjectFunc, updateValidation rest.ValidateObjectUpdateFunc, forceAllowCreate bool, options *metav1.UpdateOptions) (runtime.Object, bool, error) {
	guarded := rest.WrapUpdatedObjectInfo(objInfo, func(ctx context.Context, obj, old runtime.Object) (runtime.Object, error) {
		if old != nil && OnlyGCFieldsChanged(obj, old) {
			return obj, nil
		}
		if err := r.check(ctx, obj); err != nil {
			return nil, err
		}
		return obj, nil
	})
	return r.Store.Update(ctx, name, guarded, createValidation, updateValidation, forceAllowCreate, options)
}
