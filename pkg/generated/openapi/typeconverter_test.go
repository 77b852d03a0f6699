package openapi

import (
	"reflect"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	openapinamer "k8s.io/apiserver/pkg/endpoints/openapi"
	"k8s.io/kube-openapi/pkg/builder3"
	"k8s.io/kube-openapi/pkg/common"
	"k8s.io/kube-openapi/pkg/validation/spec"
)

// herdStyleScheme registers batch/v1 Job the way herd does: the versioned
// type serves both as batch/v1 and as the internal version.
func herdStyleScheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	s := runtime.NewScheme()
	if err := batchv1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	internal := schema.GroupVersion{Group: batchv1.GroupName, Version: runtime.APIVersionInternal}
	s.AddKnownTypes(internal, &batchv1.Job{}, &batchv1.JobList{})
	return s
}

// v3Config mirrors genericapiserver.DefaultOpenAPIV3Config without pulling in
// the whole server package.
func v3Config(namer *openapinamer.DefinitionNamer) *common.OpenAPIV3Config {
	c := &common.OpenAPIV3Config{
		GetDefinitionName: namer.GetDefinitionName,
		GetDefinitions:    GetOpenAPIDefinitions,
	}
	c.Definitions = GetOpenAPIDefinitions(func(name string) spec.Ref {
		defName, _ := c.GetDefinitionName(name)
		return spec.MustCreateRef("#/components/schemas/" + common.EscapeJsonPointer(defName))
	})
	return c
}

func TestDefinitionNamerWithInternalVersion(t *testing.T) {
	namer := openapinamer.NewDefinitionNamer(herdStyleScheme(t))
	name, ext := namer.GetDefinitionName(batchv1.Job{}.OpenAPIModelName())
	if name != "io.k8s.api.batch.v1.Job" {
		t.Errorf("name = %q, want io.k8s.api.batch.v1.Job", name)
	}
	// The namer keys GVKs by model name, so the internal registration of the
	// same Go type shows up as a second GVK (sorted: "__internal" < "v1").
	want := []interface{}{
		map[string]interface{}{"group": "batch", "version": runtime.APIVersionInternal, "kind": "Job"},
		map[string]interface{}{"group": "batch", "version": "v1", "kind": "Job"},
	}
	if got := ext["x-kubernetes-group-version-kind"]; !reflect.DeepEqual(got, want) {
		t.Errorf("x-kubernetes-group-version-kind = %#v, want %#v", got, want)
	}
	// Types that are not registered kinds get no GVK extension.
	if _, ext := namer.GetDefinitionName(batchv1.JobSpec{}.OpenAPIModelName()); ext != nil {
		t.Errorf("JobSpec extensions = %#v, want nil", ext)
	}
}

func TestServerSideApplyTypeConverter(t *testing.T) {
	namer := openapinamer.NewDefinitionNamer(herdStyleScheme(t))
	schemas, err := builder3.BuildOpenAPIDefinitionsForResources(v3Config(namer),
		batchv1.Job{}.OpenAPIModelName(), batchv1.JobList{}.OpenAPIModelName())
	if err != nil {
		t.Fatalf("BuildOpenAPIDefinitionsForResources: %v", err)
	}
	for _, name := range []string{"io.k8s.api.batch.v1.Job", "io.k8s.api.core.v1.PodSpec", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"} {
		if _, ok := schemas[name]; !ok {
			t.Errorf("schema %q not built", name)
		}
	}
	tc, err := managedfields.NewTypeConverter(schemas, false)
	if err != nil {
		t.Fatalf("NewTypeConverter: %v", err)
	}

	job := &batchv1.Job{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: metav1.ObjectMeta{Name: "pi", Namespace: "default"},
		Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever,
			Containers: []corev1.Container{
				{Name: "a", Image: "busybox"},
				{Name: "b", Image: "busybox"},
			},
		}}},
	}
	typed, err := tc.ObjectToTyped(job)
	if err != nil {
		t.Fatalf("ObjectToTyped: %v", err)
	}
	fs, err := typed.ToFieldSet()
	if err != nil {
		t.Fatalf("ToFieldSet: %v", err)
	}
	// containers is a +listType=map keyed by name, so the field set must
	// address elements by key, not by index.
	got := fs.String()
	for _, want := range []string{`.spec.template.spec.containers[name="a"].image`, `.spec.template.spec.containers[name="b"]`} {
		if !containsLine(got, want) {
			t.Errorf("field set lacks %s:\n%s", want, got)
		}
	}

	// A duplicate key in a map-list must be rejected by the typed converter.
	job.Spec.Template.Spec.Containers[1].Name = "a"
	if _, err := tc.ObjectToTyped(job); err == nil {
		t.Error("ObjectToTyped accepted duplicate container names in a map-list")
	}
}

func containsLine(s, line string) bool {
	for start := 0; start <= len(s); {
		end := start
		for end < len(s) && s[end] != '\n' {
			end++
		}
		if s[start:end] == line {
			return true
		}
		start = end + 1
	}
	return false
}
