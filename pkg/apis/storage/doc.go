// Package storage holds defaulting and validation of storage.k8s.io/v1
// StorageClasses with Kubernetes' rules, and the well-known names of the
// default class (its annotation). Serving is in pkg/registry/storage.
package storage
