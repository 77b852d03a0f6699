// Package serviceaccount issues and validates Kubernetes ServiceAccount
// tokens: JWTs signed with the server's service-account key (ES256), with
// Kubernetes' public claims (iss, sub, aud, exp, iat, nbf, jti) and its
// private "kubernetes.io" claim (namespace, serviceaccount, and the pod,
// secret or node the token is bound to). The Authenticator checks a token's
// signature, issuer, validity window and audiences, and that the
// ServiceAccount and the bound object still exist with the same UID. It
// knows nothing of HTTP serving: the TokenRequest subresource lives in
// pkg/registry/core/serviceaccount, the kubelet-side token cache in
// pkg/agent/token.
package serviceaccount
