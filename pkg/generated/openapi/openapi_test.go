package openapi

import (
	"reflect"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/kube-openapi/pkg/common"
	"k8s.io/kube-openapi/pkg/validation/spec"
)

// definitions returns the generated definitions and the set of names passed to
// the reference callback, so tests can check that every reference resolves.
func definitions(t *testing.T) (map[string]common.OpenAPIDefinition, map[string]bool) {
	t.Helper()
	refs := map[string]bool{}
	defs := GetOpenAPIDefinitions(func(name string) spec.Ref {
		refs[name] = true
		return spec.MustCreateRef("#/definitions/" + name)
	})
	return defs, refs
}

func TestDefinitionsPresent(t *testing.T) {
	defs, _ := definitions(t)
	for _, name := range []string{
		"io.k8s.api.batch.v1.Job",
		"io.k8s.api.batch.v1.CronJob",
		"io.k8s.api.core.v1.Pod",
		"io.k8s.api.core.v1.PodSpec",
		"io.k8s.api.apps.v1.Deployment",
		"io.k8s.api.coordination.v1.Lease",
		"io.k8s.api.events.v1.Event",
		"io.k8s.api.discovery.v1.EndpointSlice",
		"io.k8s.api.autoscaling.v1.Scale",
		"io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler",
		"io.k8s.metrics.pkg.apis.metrics.v1beta1.PodMetrics",
		"io.k8s.api.policy.v1.PodDisruptionBudget",
		"io.k8s.api.authentication.v1.TokenReview",
		"io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
		"io.k8s.apimachinery.pkg.apis.meta.v1.Status",
		"io.k8s.apimachinery.pkg.runtime.RawExtension",
		"io.k8s.apimachinery.pkg.version.Info",
		"io.k8s.apimachinery.pkg.api.resource.Quantity",
		"io.k8s.apimachinery.pkg.util.intstr.IntOrString",
	} {
		if _, ok := defs[name]; !ok {
			t.Errorf("definition %q missing", name)
		}
	}
	// The keys are the types' own model names, which is what
	// runtime.Scheme.ToOpenAPIDefinitionName (and so the apiserver's
	// DefinitionNamer) returns for them.
	for name, want := range map[string]string{
		"Job":        batchv1.Job{}.OpenAPIModelName(),
		"PodSpec":    corev1.PodSpec{}.OpenAPIModelName(),
		"ObjectMeta": metav1.ObjectMeta{}.OpenAPIModelName(),
	} {
		if _, ok := defs[want]; !ok {
			t.Errorf("%s: definition keyed by OpenAPIModelName %q missing", name, want)
		}
	}
}

func TestAllReferencesResolve(t *testing.T) {
	defs, refs := definitions(t)
	if len(refs) == 0 {
		t.Fatal("no references recorded")
	}
	for name := range refs {
		if _, ok := defs[name]; !ok {
			t.Errorf("reference to %q has no definition", name)
		}
	}
	for name, def := range defs {
		for _, dep := range def.Dependencies {
			if _, ok := defs[dep]; !ok {
				t.Errorf("%s: dependency %q has no definition", name, dep)
			}
		}
	}
}

func TestListAndPatchExtensions(t *testing.T) {
	defs, _ := definitions(t)
	tests := []struct {
		def, prop string
		want      spec.Extensions
	}{
		{
			def: "io.k8s.api.core.v1.PodSpec", prop: "containers",
			want: spec.Extensions{
				"x-kubernetes-list-type":       "map",
				"x-kubernetes-list-map-keys":   []interface{}{"name"},
				"x-kubernetes-patch-merge-key": "name",
				"x-kubernetes-patch-strategy":  "merge",
			},
		},
		{
			def: "io.k8s.api.core.v1.Container", prop: "ports",
			want: spec.Extensions{
				"x-kubernetes-list-type":       "map",
				"x-kubernetes-list-map-keys":   []interface{}{"containerPort", "protocol"},
				"x-kubernetes-patch-merge-key": "containerPort",
				"x-kubernetes-patch-strategy":  "merge",
			},
		},
		{
			def: "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", prop: "finalizers",
			want: spec.Extensions{
				"x-kubernetes-list-type":      "set",
				"x-kubernetes-patch-strategy": "merge",
			},
		},
		{
			def: "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", prop: "ownerReferences",
			want: spec.Extensions{
				"x-kubernetes-list-type":       "map",
				"x-kubernetes-list-map-keys":   []interface{}{"uid"},
				"x-kubernetes-patch-merge-key": "uid",
				"x-kubernetes-patch-strategy":  "merge",
			},
		},
		{
			def: "io.k8s.api.batch.v1.JobStatus", prop: "conditions",
			want: spec.Extensions{
				"x-kubernetes-list-type":       "atomic",
				"x-kubernetes-patch-merge-key": "type",
				"x-kubernetes-patch-strategy":  "merge",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.def+"."+tc.prop, func(t *testing.T) {
			def, ok := defs[tc.def]
			if !ok {
				t.Fatalf("definition %q missing", tc.def)
			}
			prop, ok := def.Schema.Properties[tc.prop]
			if !ok {
				t.Fatalf("property %q missing", tc.prop)
			}
			if !reflect.DeepEqual(prop.Extensions, tc.want) {
				t.Errorf("extensions = %#v, want %#v", prop.Extensions, tc.want)
			}
		})
	}
}

func TestMapTypeExtension(t *testing.T) {
	defs, _ := definitions(t)
	// LabelSelector carries +structType=atomic, which the generator emits as
	// the x-kubernetes-map-type extension on the type's schema.
	ls, ok := defs["io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector"]
	if !ok {
		t.Fatal("LabelSelector definition missing")
	}
	if got := ls.Schema.Extensions["x-kubernetes-map-type"]; got != "atomic" {
		t.Errorf("LabelSelector x-kubernetes-map-type = %v, want atomic", got)
	}
}

func TestTopLevelSchema(t *testing.T) {
	defs, _ := definitions(t)
	job := defs["io.k8s.api.batch.v1.Job"].Schema
	for _, p := range []string{"apiVersion", "kind", "metadata", "spec", "status"} {
		if _, ok := job.Properties[p]; !ok {
			t.Errorf("Job property %q missing", p)
		}
	}
	metadata := job.Properties["metadata"]
	if got, want := metadata.Ref.String(), "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"; got != want {
		t.Errorf("Job.metadata ref = %q, want %q", got, want)
	}
	podSpec := defs["io.k8s.api.core.v1.PodSpec"].Schema
	if !reflect.DeepEqual(podSpec.Required, []string{"containers"}) {
		t.Errorf("PodSpec required = %v, want [containers]", podSpec.Required)
	}
	t.Logf("%d top-level definitions", len(defs))
}
