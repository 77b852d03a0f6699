// Package batch holds herd's defaulting and validation for the batch/v1 types
// (Job and CronJob), with Kubernetes' rules, field paths and error types. It
// works on the versioned k8s.io/api types, which herd also uses as its
// in-memory representation, and delegates pod template rules to
// pkg/apis/core. It also provides the create-time selector generation that
// Kubernetes' Job strategy performs (GenerateJobSelector) and the cron
// schedule check used by CronJob validation (ValidateCronSchedule).
//
// It knows nothing about storage, HTTP or controllers: the registry packages
// call it.
package batch
