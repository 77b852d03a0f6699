// Package rbac holds the rules of rbac.authorization.k8s.io/v1 objects that
// the API server applies before storing them: defaulting (the API groups of
// roleRef and subjects) and validation with Kubernetes' field paths. It does
// not decide requests; pkg/auth/authorizer/rbac does that.
package rbac
