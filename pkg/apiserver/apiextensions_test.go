package apiserver

import (
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionslisters "k8s.io/apiextensions-apiserver/pkg/client/listers/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
)

type fakeGroups map[string]metav1.APIGroup

func (f fakeGroups) AddGroup(g metav1.APIGroup) { f[g.Name] = g }
func (f fakeGroups) RemoveGroup(name string)    { delete(f, name) }

func crd(name, group string, established bool, versions ...apiextensionsv1.CustomResourceDefinitionVersion) *apiextensionsv1.CustomResourceDefinition {
	c := &apiextensionsv1.CustomResourceDefinition{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{Group: group, Versions: versions}}
	if established {
		c.Status.Conditions = []apiextensionsv1.CustomResourceDefinitionCondition{{Type: apiextensionsv1.Established, Status: apiextensionsv1.ConditionTrue}}
	}
	return c
}

// The unaggregated /apis lists the groups of established CRDs with their
// served versions, the highest (Kubernetes' version order) preferred, and
// drops a group when its last CRD goes.
func TestCRDGroupDiscovery(t *testing.T) {
	idx := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{})
	groups := fakeGroups{}
	d := &crdGroupDiscovery{lister: apiextensionslisters.NewCustomResourceDefinitionLister(idx), groups: groups}

	idx.Add(crd("a.example.com", "example.com", true,
		apiextensionsv1.CustomResourceDefinitionVersion{Name: "v1beta1", Served: true},
		apiextensionsv1.CustomResourceDefinitionVersion{Name: "v1", Served: true},
		apiextensionsv1.CustomResourceDefinitionVersion{Name: "v2alpha1", Served: true},
		apiextensionsv1.CustomResourceDefinitionVersion{Name: "v0", Served: false}))
	idx.Add(crd("b.pending.io", "pending.io", false, apiextensionsv1.CustomResourceDefinitionVersion{Name: "v1", Served: true}))
	d.sync()
	g, ok := groups["example.com"]
	if !ok || len(groups) != 1 {
		t.Fatalf("groups: %v", groups)
	}
	var vs []string
	for _, v := range g.Versions {
		vs = append(vs, v.Version)
	}
	if g.PreferredVersion.Version != "v1" || len(vs) != 3 || vs[0] != "v1" || vs[1] != "v1beta1" || vs[2] != "v2alpha1" {
		t.Fatalf("versions %v, preferred %s", vs, g.PreferredVersion.Version)
	}
	idx.Delete(crd("a.example.com", "example.com", true))
	d.sync()
	if len(groups) != 0 {
		t.Fatalf("groups after the CRD went: %v", groups)
	}
}
