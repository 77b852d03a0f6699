package e2e

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	certutil "k8s.io/client-go/util/cert"
)

// widgetCRD is a namespaced CustomResourceDefinition of kind Widget in group
// with a schema (enum, defaults, a CEL rule), printer columns, a short name,
// a category and the status and scale subresources.
func widgetCRD(group, short string) string {
	return fmt.Sprintf(`apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.%[1]s
spec:
  group: %[1]s
  scope: Namespaced
  names:
    plural: widgets
    singular: widget
    kind: Widget
    shortNames: [%[2]s]
    categories: [%[2]s-all]
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
      scale:
        specReplicasPath: .spec.replicas
        statusReplicasPath: .status.replicas
    additionalPrinterColumns:
    - name: Size
      type: string
      jsonPath: .spec.size
    - name: Replicas
      type: integer
      jsonPath: .spec.replicas
    - name: Phase
      type: string
      jsonPath: .status.phase
    schema:
      openAPIV3Schema:
        type: object
        description: A Widget is what the e2e tests make.
        properties:
          spec:
            type: object
            description: The desired widget.
            x-kubernetes-validations:
            - rule: "self.replicas <= 10"
              message: "replicas must be at most 10"
            properties:
              size:
                type: string
                description: How big the widget is.
                enum: [small, medium, large]
                default: medium
              replicas:
                type: integer
                default: 1
              color:
                type: string
          status:
            type: object
            properties:
              replicas:
                type: integer
              phase:
                type: string
`, group, short)
}

// applyCRD applies a CRD and waits until it is established and its kind is
// in discovery.
func applyCRD(t *testing.T, s *Server, manifest, name string) {
	t.Helper()
	if out, err := s.KubectlIn(t, manifest, "apply", "-f", "-"); err != nil {
		t.Fatalf("applying CRD: %v\n%s", err, out)
	}
	s.MustKubectl(t, "wait", "--for=condition=Established", "--timeout=60s", "crd/"+name)
	t.Cleanup(func() { s.Kubectl(t, "delete", "crd", name, "--ignore-not-found", "--wait=false") })
}

func jsonField(t *testing.T, s *Server, args ...string) map[string]any {
	t.Helper()
	out := s.MustKubectl(t, append(args, "-o", "json")...)
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return m
}

// TestCustomResourceDefinitionLifecycle is issue 17's acceptance 1 and 2: a
// CRD applied with kubectl, its objects created, listed with the printer
// columns, patched three ways, their status written only through /status,
// watched; schema violations are 422s with the field path, defaults are
// applied, unknown fields pruned; discovery and OpenAPI follow the CRD, and
// deleting it deletes its objects.
func TestCustomResourceDefinitionLifecycle(t *testing.T) {
	s := shared
	ns := s.Namespace(t)
	const group = "lifecycle.e2e.herd.test"
	applyCRD(t, s, widgetCRD(group, "lcw"), "widgets."+group)

	// Unaggregated discovery lists the group too.
	if out := s.MustKubectl(t, "get", "--raw", "/apis"); !strings.Contains(out, `"name":"`+group+`"`) || !strings.Contains(out, `"name":"apiextensions.k8s.io"`) {
		t.Fatalf("/apis lacks %s or apiextensions.k8s.io:\n%s", group, out)
	}
	// Discovery knows the short name and the category.
	if out := s.MustKubectl(t, "api-resources", "--api-group", group); !regexp.MustCompile(`widgets +lcw +` + regexp.QuoteMeta(group) + `/v1 +true +Widget`).MatchString(out) {
		t.Fatalf("api-resources:\n%s", out)
	}

	// Watch from before the first object.
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	watch := exec.CommandContext(ctx, kubectl, "get", "lcw", "-n", ns, "-w", "--output-watch-events")
	watch.Env = append(os.Environ(), "KUBECONFIG="+s.Kubeconfig)
	stdout, err := watch.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := watch.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); watch.Wait() }()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	time.Sleep(time.Second) // let the watch start

	// Created with defaults applied; an unknown field is pruned when the
	// client does not ask for strict validation, and rejected when it does.
	cr := func(name, spec string) string {
		return fmt.Sprintf(`{"apiVersion":"%s/v1","kind":"Widget","metadata":{"name":%q},"spec":%s}`, group, name, spec)
	}
	if out, err := s.KubectlIn(t, cr("w1", `{"color":"red","bogus":1}`), "apply", "-n", ns, "-f", "-"); err == nil || !strings.Contains(out, `unknown field "spec.bogus"`) {
		t.Fatalf("strict apply of an unknown field: %v\n%s", err, out)
	}
	if out, err := s.KubectlIn(t, cr("w1", `{"color":"red","bogus":1}`), "apply", "--validate=false", "-n", ns, "-f", "-"); err != nil {
		t.Fatal(err, out)
	}
	spec := jsonField(t, s, "get", "widget."+group, "w1", "-n", ns)["spec"].(map[string]any)
	if spec["size"] != "medium" || spec["replicas"] != float64(1) || spec["color"] != "red" || spec["bogus"] != nil {
		t.Fatalf("spec after defaulting and pruning: %v", spec)
	}

	// Stored in the same etcd, where kube-apiserver stores them.
	for _, key := range []string{"/registry/" + group + "/widgets/" + ns + "/w1", "/registry/apiextensions.k8s.io/customresourcedefinitions/widgets." + group} {
		eventually(t, 10*time.Second, func() error {
			found := false
			filepath.Walk(filepath.Join(s.DataDir, "etcd"), func(p string, fi os.FileInfo, err error) error {
				if err == nil && !fi.IsDir() && !found {
					if b, err := os.ReadFile(p); err == nil && strings.Contains(string(b), key) {
						found = true
					}
				}
				return nil
			})
			if !found {
				return fmt.Errorf("no key %s in etcd's files", key)
			}
			return nil
		})
	}

	// Listed with the printer columns.
	if out := s.MustKubectl(t, "get", "lcw", "-n", ns); !regexp.MustCompile(`(?m)^NAME +SIZE +REPLICAS +PHASE *\nw1 +medium +1\b`).MatchString(out) {
		t.Fatalf("printer columns:\n%s", out)
	}
	// In its category.
	if out := s.MustKubectl(t, "get", "lcw-all", "-n", ns, "-o", "name"); !strings.Contains(out, "widget."+group+"/w1") {
		t.Fatalf("category:\n%s", out)
	}

	// Patched: merge, JSON, and server-side apply.
	s.MustKubectl(t, "patch", "lcw", "w1", "-n", ns, "--type=merge", "-p", `{"spec":{"size":"large"}}`)
	s.MustKubectl(t, "patch", "lcw", "w1", "-n", ns, "--type=json", "-p", `[{"op":"replace","path":"/spec/replicas","value":3}]`)
	if out, err := s.KubectlIn(t, cr("w2", `{"color":"blue"}`), "apply", "--server-side", "--field-manager=e2e", "-n", ns, "-f", "-"); err != nil {
		t.Fatal(err, out)
	}
	if out, err := s.KubectlIn(t, cr("w2", `{"color":"green","size":"small"}`), "apply", "--server-side", "--field-manager=e2e", "-n", ns, "-f", "-"); err != nil {
		t.Fatal(err, out)
	}
	if out := s.MustKubectl(t, "get", "lcw", "-n", ns); !regexp.MustCompile(`(?m)^w1 +large +3\b`).MatchString(out) || !regexp.MustCompile(`(?m)^w2 +small +1\b`).MatchString(out) {
		t.Fatalf("after patches:\n%s", out)
	}
	w2 := jsonField(t, s, "get", "lcw", "w2", "-n", ns, "--show-managed-fields")
	if mf, _ := json.Marshal(w2["metadata"].(map[string]any)["managedFields"]); !strings.Contains(string(mf), `"manager":"e2e","operation":"Apply"`) {
		t.Fatalf("managed fields of the applied object: %s", mf)
	}

	// Status is written only through /status; the scale subresource works.
	s.MustKubectl(t, "patch", "lcw", "w1", "-n", ns, "--type=merge", "-p", `{"status":{"phase":"Main"}}`)
	if st := jsonField(t, s, "get", "lcw", "w1", "-n", ns)["status"]; st != nil {
		t.Fatalf("status written through the main resource: %v", st)
	}
	s.MustKubectl(t, "patch", "lcw", "w1", "-n", ns, "--subresource=status", "--type=merge", "-p", `{"status":{"phase":"Ready"},"spec":{"size":"small"}}`)
	w1 := jsonField(t, s, "get", "lcw", "w1", "-n", ns)
	if w1["status"].(map[string]any)["phase"] != "Ready" || w1["spec"].(map[string]any)["size"] != "large" {
		t.Fatalf("after the status patch: %v", w1)
	}
	s.MustKubectl(t, "scale", "lcw", "w1", "-n", ns, "--replicas=4")
	if out := s.MustKubectl(t, "get", "lcw", "w1", "-n", ns); !regexp.MustCompile(`(?m)^w1 +large +4 +Ready\b`).MatchString(out) {
		t.Fatalf("after scale:\n%s", out)
	}

	// Schema violations are 422 with the field path; nothing is stored.
	for _, c := range []struct{ patch, want string }{
		{`{"spec":{"size":"huge"}}`, `spec.size: Unsupported value: "huge"`},
		{`{"spec":{"replicas":"many"}}`, `spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer`},
		{`{"spec":{"replicas":11}}`, `spec: Invalid value: replicas must be at most 10`},
	} {
		out, err := s.Kubectl(t, "patch", "lcw", "w1", "-n", ns, "--type=merge", "-p", c.patch, "-v=6")
		if err == nil || !strings.Contains(out, c.want) || !strings.Contains(out, "422 Unprocessable Entity") {
			t.Errorf("patch %s: want a 422 with %q, got %v\n%s", c.patch, c.want, err, out)
		}
	}
	if out := s.MustKubectl(t, "get", "lcw", "w1", "-n", ns); !regexp.MustCompile(`(?m)^w1 +large +4\b`).MatchString(out) {
		t.Fatalf("after rejected patches:\n%s", out)
	}

	// The watch saw it all.
	expect := func(re string) {
		t.Helper()
		deadline := time.After(15 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("watch ended before %q", re)
				}
				if regexp.MustCompile(re).MatchString(l) {
					return
				}
			case <-deadline:
				t.Fatalf("watch did not show %q", re)
			}
		}
	}
	expect(`^ADDED +w1 +medium`)
	expect(`^MODIFIED +w1 +large`)
	expect(`^ADDED +w2 +medium`)

	// kubectl explain reads the CR's schema from OpenAPI v3; OpenAPI v2 has
	// the kind too.
	if out := s.MustKubectl(t, "explain", "lcw.spec.size"); !strings.Contains(out, "How big the widget is.") || !regexp.MustCompile(`ENUM:\s+small\s+medium\s+large`).MatchString(out) {
		t.Fatalf("explain:\n%s", out)
	}
	if out := s.MustKubectl(t, "get", "--raw", "/openapi/v2"); !strings.Contains(out, `"test.herd.e2e.lifecycle.v1.Widget"`) || !strings.Contains(out, `"io.k8s.api.apps.v1.Deployment"`) {
		t.Fatal("OpenAPI v2 lacks the Widget or the built-in kinds")
	}

	// Deleting the CRD deletes its objects and takes it out of discovery and
	// OpenAPI; recreated, it starts empty.
	s.MustKubectl(t, "delete", "crd", "widgets."+group, "--timeout=60s")
	eventually(t, 30*time.Second, func() error {
		if out, _ := s.Kubectl(t, "api-resources", "--api-group", group); strings.Contains(out, "Widget") {
			return fmt.Errorf("still in discovery:\n%s", out)
		}
		if out, _ := s.Kubectl(t, "get", "--raw", "/apis"); strings.Contains(out, `"name":"`+group+`"`) {
			return fmt.Errorf("still in /apis")
		}
		if out, _ := s.Kubectl(t, "get", "--raw", "/openapi/v3"); strings.Contains(out, "apis/"+group+"/v1") {
			return fmt.Errorf("still in OpenAPI v3")
		}
		if out, _ := s.Kubectl(t, "get", "--raw", "/openapi/v2"); strings.Contains(out, "test.herd.e2e.lifecycle.v1.Widget") {
			return fmt.Errorf("still in OpenAPI v2")
		}
		return nil
	})
	applyCRD(t, s, widgetCRD(group, "lcw"), "widgets."+group)
	if out := s.MustKubectl(t, "get", "widgets."+group, "-n", ns, "-o", "name"); strings.TrimSpace(out) != "" {
		t.Fatalf("objects survived their CRD:\n%s", out)
	}
}

// TestWrongAPIVersionAndClientValidation: a manifest of an unknown kind gets
// kubectl's "no matches for kind", and kubectl's client-side validation
// (which lists CRDs) accepts a virtual kind such as TokenReview.
func TestWrongAPIVersionAndClientValidation(t *testing.T) {
	s := shared
	out, err := s.KubectlIn(t, `{"apiVersion":"nowhere.e2e.herd.test/v9","kind":"Nothing","metadata":{"name":"x","namespace":"default"}}`, "apply", "-f", "-")
	if err == nil || !strings.Contains(out, `no matches for kind "Nothing" in version "nowhere.e2e.herd.test/v9"`) || strings.Contains(out, "failed to list CRDs") {
		t.Fatalf("wrong apiVersion: %v\n%s", err, out)
	}
	out, err = s.KubectlIn(t, `{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{"token":"not-a-token"}}`, "create", "-f", "-", "-o", "json")
	if err != nil || !strings.Contains(out, `"authenticated"`) && !strings.Contains(out, `"error"`) {
		t.Fatalf("TokenReview with client-side validation: %v\n%s", err, out)
	}
}

// TestCustomResourceGarbageCollection: ownerReferences work both ways between
// a custom resource and a ConfigMap, and namespace deletion waits for the
// custom resources inside.
func TestCustomResourceGarbageCollection(t *testing.T) {
	s := shared
	ns := s.Namespace(t)
	const group = "gc.e2e.herd.test"
	applyCRD(t, s, widgetCRD(group, "gcw"), "widgets."+group)
	uid := func(kind, name string) string {
		return strings.TrimSpace(s.MustKubectl(t, "get", kind, name, "-n", ns, "-o", "jsonpath={.metadata.uid}"))
	}

	// A ConfigMap owned by a Widget goes with it.
	if out, err := s.KubectlIn(t, fmt.Sprintf(`{"apiVersion":"%s/v1","kind":"Widget","metadata":{"name":"owner"},"spec":{}}`, group), "apply", "-n", ns, "-f", "-"); err != nil {
		t.Fatal(err, out)
	}
	cm := fmt.Sprintf(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"dependent","ownerReferences":[{"apiVersion":"%s/v1","kind":"Widget","name":"owner","uid":%q}]}}`, group, uid("gcw", "owner"))
	if out, err := s.KubectlIn(t, cm, "apply", "-n", ns, "-f", "-"); err != nil {
		t.Fatal(err, out)
	}
	s.MustKubectl(t, "delete", "gcw", "owner", "-n", ns)
	eventually(t, 90*time.Second, func() error {
		if out, err := s.Kubectl(t, "get", "configmap", "dependent", "-n", ns); err == nil {
			return fmt.Errorf("the dependent ConfigMap is still there:\n%s", out)
		}
		return nil
	})

	// A Widget owned by a ConfigMap goes with it, in the foreground too.
	s.MustKubectl(t, "create", "configmap", "owner", "-n", ns)
	w := fmt.Sprintf(`{"apiVersion":"%s/v1","kind":"Widget","metadata":{"name":"dependent","ownerReferences":[{"apiVersion":"v1","kind":"ConfigMap","name":"owner","uid":%q,"blockOwnerDeletion":true}]},"spec":{}}`, group, uid("configmap", "owner"))
	if out, err := s.KubectlIn(t, w, "apply", "-n", ns, "-f", "-"); err != nil {
		t.Fatal(err, out)
	}
	s.MustKubectl(t, "delete", "configmap", "owner", "-n", ns, "--cascade=foreground", "--timeout=90s")
	eventually(t, 90*time.Second, func() error {
		if out, err := s.Kubectl(t, "get", "gcw", "dependent", "-n", ns); err == nil {
			return fmt.Errorf("the dependent Widget is still there:\n%s", out)
		}
		return nil
	})

	// Namespace deletion waits for the Widgets inside (held by a finalizer)
	// and finishes when they are gone.
	if out, err := s.KubectlIn(t, fmt.Sprintf(`{"apiVersion":"%s/v1","kind":"Widget","metadata":{"name":"held","finalizers":["e2e.herd.test/hold"]},"spec":{}}`, group), "apply", "-n", ns, "-f", "-"); err != nil {
		t.Fatal(err, out)
	}
	s.MustKubectl(t, "delete", "namespace", ns, "--wait=false")
	eventually(t, 60*time.Second, func() error {
		ts := s.MustKubectl(t, "get", "gcw", "held", "-n", ns, "-o", "jsonpath={.metadata.deletionTimestamp}")
		if strings.TrimSpace(ts) == "" {
			return fmt.Errorf("the Widget is not being deleted yet")
		}
		return nil
	})
	nsObj := jsonField(t, s, "get", "namespace", ns)
	if phase := nsObj["status"].(map[string]any)["phase"]; phase != "Terminating" {
		t.Fatalf("namespace phase %v while a Widget remains", phase)
	}
	s.MustKubectl(t, "patch", "gcw", "held", "-n", ns, "--type=json", "-p", `[{"op":"remove","path":"/metadata/finalizers"}]`)
	eventually(t, 90*time.Second, func() error {
		if out, err := s.Kubectl(t, "get", "namespace", ns); err == nil {
			return fmt.Errorf("namespace still there:\n%s", out)
		}
		return nil
	})
}

// conversionWebhook serves ConversionReviews for the Thing kind: v1 has
// spec.size, v2 has spec.dimension. It counts the objects it converted.
func conversionWebhook(t *testing.T, certPEM, keyPEM []byte) (*httptest.Server, *atomic.Int64) {
	var converted atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var review apiextensionsv1.ConversionReview
		if err := json.NewDecoder(r.Body).Decode(&review); err != nil || review.Request == nil {
			http.Error(w, "not a ConversionReview", http.StatusBadRequest)
			return
		}
		resp := &apiextensionsv1.ConversionResponse{UID: review.Request.UID, Result: metav1.Status{Status: metav1.StatusSuccess}}
		for _, raw := range review.Request.Objects {
			var obj map[string]any
			if err := json.Unmarshal(raw.Raw, &obj); err != nil {
				resp.Result = metav1.Status{Status: metav1.StatusFailure, Message: err.Error()}
				break
			}
			spec, _ := obj["spec"].(map[string]any)
			if spec == nil {
				spec = map[string]any{}
			}
			if strings.HasSuffix(review.Request.DesiredAPIVersion, "/v2") {
				if v, ok := spec["size"]; ok {
					spec["dimension"] = v
					delete(spec, "size")
				}
			} else if v, ok := spec["dimension"]; ok {
				spec["size"] = v
				delete(spec, "dimension")
			}
			obj["spec"] = spec
			obj["apiVersion"] = review.Request.DesiredAPIVersion
			b, _ := json.Marshal(obj)
			resp.ConvertedObjects = append(resp.ConvertedObjects, runtime.RawExtension{Raw: b})
			converted.Add(1)
		}
		review.Response, review.Request = resp, nil
		json.NewEncoder(w).Encode(&review)
	}))
	if certPEM != nil {
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			t.Fatal(err)
		}
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}}
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, &converted
}

// TestCustomResourceVersionsAndSelectableFields: a CRD with two versions and
// None conversion serves each object in both; one with a webhook conversion
// calls the webhook; selectable fields work with --field-selector.
func TestCustomResourceVersionsAndSelectableFields(t *testing.T) {
	s := shared
	ns := s.Namespace(t)
	versions := func(group, conversion string) string {
		return fmt.Sprintf(`apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: things.%[1]s
spec:
  group: %[1]s
  scope: Namespaced
  names: {plural: things, singular: thing, kind: Thing}
%[2]s
  versions:
  - name: v1
    served: true
    storage: true
    selectableFields:
    - jsonPath: .spec.size
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            x-kubernetes-preserve-unknown-fields: true
            properties:
              size: {type: string}
  - name: v2
    served: true
    storage: false
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            x-kubernetes-preserve-unknown-fields: true
`, group, conversion)
	}

	// None: the same object in both versions, only apiVersion differs.
	const none = "none.e2e.herd.test"
	applyCRD(t, s, versions(none, ""), "things."+none)
	for _, size := range []string{"small", "large"} {
		if out, err := s.KubectlIn(t, fmt.Sprintf(`{"apiVersion":"%s/v2","kind":"Thing","metadata":{"name":"t-%s"},"spec":{"size":%q}}`, none, size, size), "apply", "-n", ns, "-f", "-"); err != nil {
			t.Fatal(err, out)
		}
	}
	if out := s.MustKubectl(t, "get", "things.v1."+none, "t-small", "-n", ns, "-o", "jsonpath={.apiVersion} {.spec.size}"); out != none+"/v1 small" {
		t.Fatalf("v1 read of a v2-created object: %q", out)
	}
	if out := s.MustKubectl(t, "get", "things.v1."+none, "-n", ns, "--field-selector", "spec.size=large", "-o", "name"); strings.TrimSpace(out) != "thing."+none+"/t-large" {
		t.Fatalf("selectable field: %q", out)
	}
	if out, err := s.Kubectl(t, "get", "things.v1."+none, "-n", ns, "--field-selector", "spec.color=red"); err == nil || !strings.Contains(out, `field label not supported: spec.color`) {
		t.Fatalf("an unselectable field: %v\n%s", err, out)
	}

	// Webhook: reading in the other version calls the webhook.
	const hooked = "webhook.e2e.herd.test"
	srv, converted := conversionWebhook(t, nil, nil)
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	conversion := fmt.Sprintf(`  conversion:
    strategy: Webhook
    webhook:
      conversionReviewVersions: [v1]
      clientConfig:
        url: %s/convert
        caBundle: %s`, srv.URL, base64.StdEncoding.EncodeToString(ca))
	applyCRD(t, s, versions(hooked, conversion), "things."+hooked)
	if out, err := s.KubectlIn(t, fmt.Sprintf(`{"apiVersion":"%s/v2","kind":"Thing","metadata":{"name":"t1"},"spec":{"dimension":"medium"}}`, hooked), "apply", "-n", ns, "-f", "-"); err != nil {
		t.Fatal(err, out)
	}
	if out := s.MustKubectl(t, "get", "things.v1."+hooked, "t1", "-n", ns, "-o", "jsonpath={.apiVersion} {.spec.size}"); out != hooked+"/v1 medium" {
		t.Fatalf("v1 read through the conversion webhook: %q", out)
	}
	if out := s.MustKubectl(t, "get", "things.v2."+hooked, "t1", "-n", ns, "-o", "jsonpath={.spec.dimension}"); out != "medium" {
		t.Fatalf("v2 read through the conversion webhook: %q", out)
	}
	if converted.Load() == 0 {
		t.Fatal("the conversion webhook was never called")
	}

	// A webhook named by a Service is called on the Service's endpoint.
	const bySvc = "service.e2e.herd.test"
	certPEM, keyPEM, err := certutil.GenerateSelfSignedCertKey("converter."+ns+".svc", []net.IP{net.ParseIP("127.0.0.1")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	svcHook, svcConverted := conversionWebhook(t, certPEM, keyPEM)
	_, hookPort, _ := net.SplitHostPort(strings.TrimPrefix(svcHook.URL, "https://"))
	svc := fmt.Sprintf(`apiVersion: v1
kind: Service
metadata: {name: converter, namespace: %[1]s}
spec:
  ports: [{name: https, port: 443, targetPort: %[2]s}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: converter-1
  namespace: %[1]s
  labels: {kubernetes.io/service-name: converter}
addressType: IPv4
ports: [{name: https, port: %[2]s, protocol: TCP}]
endpoints:
- addresses: [127.0.0.1]
  conditions: {ready: true}
`, ns, hookPort)
	if out, err := s.KubectlIn(t, svc, "apply", "-f", "-"); err != nil {
		t.Fatal(err, out)
	}
	conversion = fmt.Sprintf(`  conversion:
    strategy: Webhook
    webhook:
      conversionReviewVersions: [v1]
      clientConfig:
        service: {namespace: %s, name: converter, path: /convert, port: 443}
        caBundle: %s`, ns, base64.StdEncoding.EncodeToString(certPEM))
	applyCRD(t, s, versions(bySvc, conversion), "things."+bySvc)
	if out, err := s.KubectlIn(t, fmt.Sprintf(`{"apiVersion":"%s/v2","kind":"Thing","metadata":{"name":"t1"},"spec":{"dimension":"large"}}`, bySvc), "apply", "-n", ns, "-f", "-"); err != nil {
		t.Fatal(err, out)
	}
	if out := s.MustKubectl(t, "get", "things.v1."+bySvc, "t1", "-n", ns, "-o", "jsonpath={.apiVersion} {.spec.size}"); out != bySvc+"/v1 large" {
		t.Fatalf("v1 read through the Service's conversion webhook: %q", out)
	}
	if svcConverted.Load() == 0 {
		t.Fatal("the Service's conversion webhook was never called")
	}
}

// TestCustomResourceQuota: a count/<resource>.<group> quota counts custom
// resources (through metadata informers) and admission enforces it.
func TestCustomResourceQuota(t *testing.T) {
	s := shared
	ns := s.Namespace(t)
	const group = "quota.e2e.herd.test"
	applyCRD(t, s, widgetCRD(group, "qw"), "widgets."+group)
	s.MustKubectl(t, "create", "quota", "widgets", "-n", ns, "--hard=count/widgets."+group+"=1")
	used := func() string {
		return s.MustKubectl(t, "get", "quota", "widgets", "-n", ns, "-o", `jsonpath={.status.used.count/widgets\.`+strings.ReplaceAll(group, ".", `\.`)+`}`)
	}
	eventually(t, 90*time.Second, func() error {
		if u := used(); u != "0" {
			return fmt.Errorf("used %q", u)
		}
		return nil
	})
	w := func(name string) string {
		return fmt.Sprintf(`{"apiVersion":"%s/v1","kind":"Widget","metadata":{"name":%q},"spec":{}}`, group, name)
	}
	if out, err := s.KubectlIn(t, w("a"), "create", "-n", ns, "-f", "-"); err != nil {
		t.Fatal(err, out)
	}
	if out, err := s.KubectlIn(t, w("b"), "create", "-n", ns, "-f", "-"); err == nil || !strings.Contains(out, "exceeded quota: widgets") {
		t.Fatalf("a second Widget over the quota: %v\n%s", err, out)
	}
	s.MustKubectl(t, "delete", "qw", "a", "-n", ns)
	eventually(t, 30*time.Second, func() error {
		if u := used(); u != "0" {
			return fmt.Errorf("used %q after the delete", u)
		}
		return nil
	})
	if out, err := s.KubectlIn(t, w("b"), "create", "-n", ns, "-f", "-"); err != nil {
		t.Fatal(err, out)
	}
}
