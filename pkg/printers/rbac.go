package printers

import (
	"strings"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Roles and ClusterRoles have no printer: the default NAME, CREATED AT
// columns are what Kubernetes serves for them.

func init() {
	bindingColumns := func() []metav1.TableColumnDefinition {
		return []metav1.TableColumnDefinition{
			nameColumn(),
			column("Role", "string", rbacv1.RoleBinding{}.SwaggerDoc()["roleRef"]),
			ageColumn(),
			wide(column("Users", "string", "Users in the roleBinding")),
			wide(column("Groups", "string", "Groups in the roleBinding")),
			wide(column("ServiceAccounts", "string", "ServiceAccounts in the roleBinding")),
		}
	}
	register(schema.GroupResource{Group: rbacv1.GroupName, Resource: "rolebindings"}, bindingColumns(),
		typed(func(b *rbacv1.RoleBinding, now time.Time) ([]interface{}, []metav1.TableRowCondition) {
			users, groups, sas := subjectLists(b.Subjects)
			return cells(b.Name, b.RoleRef.Kind+"/"+b.RoleRef.Name, since(b.CreationTimestamp, now), users, groups, sas)
		}))
	register(schema.GroupResource{Group: rbacv1.GroupName, Resource: "clusterrolebindings"}, bindingColumns(),
		typed(func(b *rbacv1.ClusterRoleBinding, now time.Time) ([]interface{}, []metav1.TableRowCondition) {
			users, groups, sas := subjectLists(b.Subjects)
			return cells(b.Name, b.RoleRef.Kind+"/"+b.RoleRef.Name, since(b.CreationTimestamp, now), users, groups, sas)
		}))
}

// subjectLists renders a binding's users, groups and service accounts
// ("namespace/name") as comma-separated lists.
func subjectLists(subjects []rbacv1.Subject) (string, string, string) {
	var users, groups, sas []string
	for _, s := range subjects {
		switch s.Kind {
		case rbacv1.UserKind:
			users = append(users, s.Name)
		case rbacv1.GroupKind:
			groups = append(groups, s.Name)
		case rbacv1.ServiceAccountKind:
			if s.Namespace != "" {
				sas = append(sas, s.Namespace+"/"+s.Name)
			} else {
				sas = append(sas, s.Name)
			}
		}
	}
	return strings.Join(users, ", "), strings.Join(groups, ", "), strings.Join(sas, ", ")
}
