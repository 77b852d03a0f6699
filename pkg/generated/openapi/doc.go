// Package openapi holds the generated OpenAPI definitions (GetOpenAPIDefinitions)
// for every type herd's API server serves: the k8s.io/api groups core, apps,
// batch, coordination, events, discovery, autoscaling, policy and
// authentication (all v1) plus the apimachinery meta/v1, runtime, version,
// resource and intstr types they reference. The definitions feed
// /openapi/v2, /openapi/v3 and the server-side apply type converter; they are
// keyed by each type's OpenAPIModelName (e.g. "io.k8s.api.batch.v1.Job").
//
// zz_generated.openapi.go is produced by k8s.io/kube-openapi's openapi-gen;
// do not edit it, regenerate it with hack/update-openapi.sh.
package openapi
