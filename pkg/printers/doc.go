// Package printers turns herd's API objects into metav1.Table for server-side
// printing (kubectl asks for application/json;as=Table;v=v1;g=meta.k8s.io).
//
// For returns a rest.TableConvertor per group/resource that produces the same
// columns and cell strings a Kubernetes 1.36 API server does (its
// pkg/printers/internalversion handlers), on the versioned k8s.io/api types
// that herd uses in memory. Like Kubernetes' server-side convertor it always
// emits the wide (priority 1) columns; kubectl hides them unless -o wide.
//
// The package only formats: it does no storage, HTTP or validation work, and
// reads nothing but the object it is given and the current time.
package printers
