package storage

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Annotations naming the default StorageClass (the beta one is still read).
const (
	IsDefaultClassAnnotation     = "storageclass.kubernetes.io/is-default-class"
	BetaIsDefaultClassAnnotation = "storageclass.beta.kubernetes.io/is-default-class"
)

// IsDefaultClass reports whether a class carries the default annotation
// (value "true").
func IsDefaultClass(sc *storagev1.StorageClass) bool {
	return sc.Annotations[IsDefaultClassAnnotation] == "true" || sc.Annotations[BetaIsDefaultClassAnnotation] == "true"
}

const (
	maxProvisionerParameterSize = 256 * (1 << 10) // 256 KiB
	maxProvisionerParameterLen  = 512
)

// SetDefaultsStorageClass defaults reclaimPolicy to Delete and
// volumeBindingMode to Immediate, as storage.k8s.io/v1 does.
func SetDefaultsStorageClass(sc *storagev1.StorageClass) {
	if sc.ReclaimPolicy == nil {
		p := corev1.PersistentVolumeReclaimDelete
		sc.ReclaimPolicy = &p
	}
	if sc.VolumeBindingMode == nil {
		m := storagev1.VolumeBindingImmediate
		sc.VolumeBindingMode = &m
	}
}

// ValidateStorageClass validates a StorageClass: name, provisioner,
// parameters, reclaim policy, binding mode and allowed topologies.
func ValidateStorageClass(sc *storagev1.StorageClass) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMeta(&sc.ObjectMeta, false, apimachineryvalidation.NameIsDNSSubdomain, field.NewPath("metadata"))
	allErrs = append(allErrs, validateProvisioner(sc.Provisioner, field.NewPath("provisioner"))...)
	allErrs = append(allErrs, validateParameters(sc.Parameters, field.NewPath("parameters"))...)
	allErrs = append(allErrs, validateReclaimPolicy(sc.ReclaimPolicy, field.NewPath("reclaimPolicy"))...)
	allErrs = append(allErrs, validateVolumeBindingMode(sc.VolumeBindingMode, field.NewPath("volumeBindingMode"))...)
	allErrs = append(allErrs, validateAllowedTopologies(sc.AllowedTopologies, field.NewPath("allowedTopologies"))...)
	return allErrs
}

// ValidateStorageClassUpdate: parameters, provisioner, reclaimPolicy and
// volumeBindingMode may not change.
func ValidateStorageClassUpdate(sc, old *storagev1.StorageClass) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&sc.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	allErrs = append(allErrs, ValidateStorageClass(sc)...)
	if !apiequality.Semantic.DeepEqual(sc.Parameters, old.Parameters) {
		allErrs = append(allErrs, field.Forbidden(field.NewPath("parameters"), "updates to parameters are forbidden."))
	}
	if sc.Provisioner != old.Provisioner {
		allErrs = append(allErrs, field.Forbidden(field.NewPath("provisioner"), "updates to provisioner are forbidden."))
	}
	if !apiequality.Semantic.DeepEqual(sc.ReclaimPolicy, old.ReclaimPolicy) {
		allErrs = append(allErrs, field.Forbidden(field.NewPath("reclaimPolicy"), "updates to reclaimPolicy are forbidden."))
	}
	allErrs = append(allErrs, apimachineryvalidation.ValidateImmutableField(sc.VolumeBindingMode, old.VolumeBindingMode, field.NewPath("volumeBindingMode"))...)
	return allErrs
}

func validateProvisioner(p string, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if p == "" {
		return field.ErrorList{field.Required(fldPath, p)}
	}
	if len(p) > validation.DNS1123SubdomainMaxLength {
		allErrs = append(allErrs, field.TooLong(fldPath, p, validation.DNS1123SubdomainMaxLength))
	}
	for _, msg := range validation.IsQualifiedName(strings.ToLower(p)) {
		allErrs = append(allErrs, field.Invalid(fldPath, p, msg))
	}
	return allErrs
}

func validateParameters(params map[string]string, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if len(params) > maxProvisionerParameterLen {
		allErrs = append(allErrs, field.TooLong(fldPath, "", maxProvisionerParameterLen))
		return allErrs
	}
	size := 0
	for k, v := range params {
		if k == "" {
			allErrs = append(allErrs, field.Invalid(fldPath, k, "field can not be empty."))
		}
		size += len(k) + len(v)
	}
	if size > maxProvisionerParameterSize {
		allErrs = append(allErrs, field.TooLong(fldPath, "", maxProvisionerParameterSize))
	}
	return allErrs
}

var supportedReclaimPolicies = []corev1.PersistentVolumeReclaimPolicy{corev1.PersistentVolumeReclaimDelete, corev1.PersistentVolumeReclaimRetain}

func validateReclaimPolicy(p *corev1.PersistentVolumeReclaimPolicy, fldPath *field.Path) field.ErrorList {
	if p == nil || *p == "" {
		return nil
	}
	for _, s := range supportedReclaimPolicies {
		if *p == s {
			return nil
		}
	}
	return field.ErrorList{field.NotSupported(fldPath, *p, supportedReclaimPolicies)}
}

var supportedBindingModes = []storagev1.VolumeBindingMode{storagev1.VolumeBindingImmediate, storagev1.VolumeBindingWaitForFirstConsumer}

func validateVolumeBindingMode(m *storagev1.VolumeBindingMode, fldPath *field.Path) field.ErrorList {
	if m == nil {
		return field.ErrorList{field.Required(fldPath, "")}
	}
	for _, s := range supportedBindingModes {
		if *m == s {
			return nil
		}
	}
	return field.ErrorList{field.NotSupported(fldPath, *m, supportedBindingModes)}
}

func validateAllowedTopologies(terms []corev1.TopologySelectorTerm, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	seen := make([]map[string]sets.Set[string], 0, len(terms))
	for i, term := range terms {
		p := fldPath.Index(i)
		if len(term.MatchLabelExpressions) == 0 {
			allErrs = append(allErrs, field.Required(p, "must have at least one label requirement"))
			continue
		}
		keys := map[string]sets.Set[string]{}
		for j, req := range term.MatchLabelExpressions {
			rp := p.Child("matchLabelExpressions").Index(j)
			allErrs = append(allErrs, metav1validation.ValidateLabelName(req.Key, rp.Child("key"))...)
			if len(req.Values) == 0 {
				allErrs = append(allErrs, field.Required(rp.Child("values"), "must specify as least one value"))
			}
			values := sets.New[string]()
			for k, v := range req.Values {
				vp := rp.Child("values").Index(k)
				for _, msg := range validation.IsValidLabelValue(v) {
					allErrs = append(allErrs, field.Invalid(vp, v, msg))
				}
				if values.Has(v) {
					allErrs = append(allErrs, field.Duplicate(vp, v))
				}
				values.Insert(v)
			}
			if _, dup := keys[req.Key]; dup {
				allErrs = append(allErrs, field.Duplicate(rp.Child("key"), req.Key))
			}
			keys[req.Key] = values
		}
		for _, other := range seen {
			if sameTerm(keys, other) {
				allErrs = append(allErrs, field.Duplicate(p, term))
				break
			}
		}
		seen = append(seen, keys)
	}
	return allErrs
}

func sameTerm(a, b map[string]sets.Set[string]) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || !v.Equal(w) {
			return false
		}
	}
	return true
}
