package bootstrap

import (
	"slices"
	"testing"

	"k8s.io/apiserver/pkg/authentication/user"
)

// TestNodesMayCleanLocalPathVolumes: node agents list, watch and update
// PersistentVolumes (to remove the directory of a deleted local-path
// volume, then its cleanup finalizer); system:node itself stays as
// Kubernetes has it (get only).
func TestNodesMayCleanLocalPathVolumes(t *testing.T) {
	var found bool
	for _, r := range ClusterRoles() {
		switch r.Name {
		case LocalPathNodeRole:
			found = true
			for _, verb := range []string{"get", "list", "watch", "update"} {
				ok := false
				for _, rule := range r.Rules {
					if slices.Contains(rule.Verbs, verb) && slices.Contains(rule.Resources, "persistentvolumes") && slices.Contains(rule.APIGroups, "") {
						ok = true
					}
				}
				if !ok {
					t.Errorf("%s does not allow %s persistentvolumes", r.Name, verb)
				}
			}
		case "system:node":
			for _, rule := range r.Rules {
				if slices.Contains(rule.Resources, "persistentvolumes") && !slices.Equal(rule.Verbs, []string{"get"}) {
					t.Errorf("system:node persistentvolumes verbs %v, Kubernetes' are [get]", rule.Verbs)
				}
			}
		}
	}
	if !found {
		t.Fatalf("no ClusterRole %s", LocalPathNodeRole)
	}
	for _, b := range ClusterRoleBindings() {
		if b.Name == LocalPathNodeRole {
			if b.RoleRef.Name != LocalPathNodeRole || len(b.Subjects) != 1 || b.Subjects[0].Name != user.NodesGroup || b.Subjects[0].Kind != "Group" {
				t.Errorf("binding %+v", b)
			}
			return
		}
	}
	t.Fatalf("no ClusterRoleBinding %s", LocalPathNodeRole)
}
