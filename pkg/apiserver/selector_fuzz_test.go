package apiserver

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apiserver/pkg/storage"

	"github.com/herd-project/herd/pkg/registry/core/pod"
	"github.com/herd-project/herd/pkg/scheme"
)

// FuzzSelectors feeds label and field selectors through what a list or
// watch of pods does with them: parse, convert the field labels with the
// conversion herd registers (unknown fields refused), and match a pod with
// the pods definition's attributes. Nothing may panic, and a selector that
// parses must print as a selector that parses to the same thing.
func FuzzSelectors(f *testing.F) {
	for _, s := range [][2]string{
		{"app=web,tier!=db", "spec.nodeName=node-1,status.phase!=Running"},
		{"app in (web,api),!canary,env notin (dev)", "metadata.name==web-1"},
		{"x>1,y<2", "spec.hostNetwork=true"},
		{"a,b=", "status.podIP="},
		{"app in ()", "spec.unknown=x"},
		{`a\=b=c`, `metadata.namespace=a\,b`},
		{"!", "=,=="},
		{"k8s.io/app=v", `status.phase=\`},
	} {
		f.Add(s[0], s[1])
	}
	def := pod.Definition(nil)
	if err := registerFieldLabels(def); err != nil {
		f.Fatal(err)
	}
	gvk := def.GroupVersionKind()
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web-1", Namespace: "default", Labels: map[string]string{"app": "web", "x": "5"}},
		Spec:       corev1.PodSpec{NodeName: "node-1", RestartPolicy: corev1.RestartPolicyAlways},
		Status:     corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.1"},
	}
	f.Fuzz(func(t *testing.T, labelSel, fieldSel string) {
		ls, err := labels.Parse(labelSel)
		if err != nil {
			ls = labels.Everything()
		} else if again, err := labels.Parse(ls.String()); err != nil || again.String() != ls.String() {
			t.Fatalf("label selector %q prints as %q, which parses to %v (%v)", labelSel, ls.String(), again, err)
		}
		fs, err := fields.ParseSelector(fieldSel)
		if err != nil {
			return
		}
		if again, err := fields.ParseSelector(fs.String()); err != nil || again.String() != fs.String() {
			t.Fatalf("field selector %q prints as %q, which parses to %v (%v)", fieldSel, fs.String(), again, err)
		}
		conv, err := fs.Transform(func(label, value string) (string, string, error) {
			return scheme.Scheme.ConvertFieldLabel(gvk, label, value)
		})
		if err != nil {
			return // the API server answers 400
		}
		pred := storage.SelectionPredicate{Label: ls, Field: conv, GetAttrs: def.GetAttrs}
		first, err1 := pred.Matches(p)
		second, err2 := pred.Matches(p)
		if first != second || (err1 == nil) != (err2 == nil) {
			t.Fatalf("matching is not deterministic: %v/%v, %v/%v", first, second, err1, err2)
		}
	})
}
