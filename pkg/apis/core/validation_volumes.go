// Pod spec validation: volumes and their sources, mount paths.

package core

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func volumeSourceCount(src *corev1.VolumeSource) int {
	n := 0
	for _, set := range []bool{src.HostPath != nil, src.EmptyDir != nil, src.GCEPersistentDisk != nil, src.AWSElasticBlockStore != nil,
		src.GitRepo != nil, src.Secret != nil, src.NFS != nil, src.ISCSI != nil, src.Glusterfs != nil, src.PersistentVolumeClaim != nil,
		src.RBD != nil, src.FlexVolume != nil, src.Cinder != nil, src.CephFS != nil, src.Flocker != nil, src.DownwardAPI != nil,
		src.FC != nil, src.AzureFile != nil, src.ConfigMap != nil, src.VsphereVolume != nil, src.Quobyte != nil, src.AzureDisk != nil,
		src.PhotonPersistentDisk != nil, src.Projected != nil, src.PortworxVolume != nil, src.ScaleIO != nil, src.StorageOS != nil,
		src.CSI != nil, src.Ephemeral != nil, src.Image != nil} {
		if set {
			n++
		}
	}
	return n
}

func (v *podSpecValidator) validateVolumes(volumes []corev1.Volume, fldPath *field.Path) (map[string]corev1.VolumeSource, field.ErrorList) {
	var allErrs field.ErrorList
	names := map[string]bool{}
	created := map[string]bool{}
	if v.podMeta != nil && v.podMeta.Name != "" {
		for _, vol := range volumes {
			if vol.Ephemeral != nil {
				created[v.podMeta.Name+"-"+vol.Name] = true
			}
		}
	}
	vols := map[string]corev1.VolumeSource{}
	for i, vol := range volumes {
		idxPath := fldPath.Index(i)
		namePath := idxPath.Child("name")
		el := v.validateVolumeSource(&vol.VolumeSource, idxPath, vol.Name)
		if vol.Name == "" {
			el = append(el, field.Required(namePath, ""))
		} else {
			el = append(el, validateDNS1123Label(vol.Name, namePath)...)
		}
		if names[vol.Name] {
			el = append(el, field.Duplicate(namePath, vol.Name))
		}
		if len(el) == 0 {
			names[vol.Name] = true
			vols[vol.Name] = vol.VolumeSource
		} else {
			allErrs = append(allErrs, el...)
		}
		if vol.PersistentVolumeClaim != nil && created[vol.PersistentVolumeClaim.ClaimName] {
			allErrs = append(allErrs, field.Invalid(idxPath.Child("persistentVolumeClaim").Child("claimName"), vol.PersistentVolumeClaim.ClaimName,
				"must not reference a PVC that gets created for an ephemeral volume"))
		}
	}
	return vols, allErrs
}

func validateFileMode(mode *int32, fldPath *field.Path) field.ErrorList {
	if mode != nil && (*mode > 0777 || *mode < 0) {
		return field.ErrorList{field.Invalid(fldPath, *mode, fileModeErrorMsg)}
	}
	return nil
}

// volumeSourceChecks lists each volume type in Kubernetes' checking order:
// its presence, its field name, and the path its own rules report under.
func (v *podSpecValidator) validateVolumeSource(src *corev1.VolumeSource, fldPath *field.Path, volName string) field.ErrorList {
	var allErrs field.ErrorList
	num := 0
	one := func(set bool, name string, validate func() field.ErrorList) {
		if !set {
			return
		}
		if num > 0 {
			allErrs = append(allErrs, field.Forbidden(fldPath.Child(name), "may not specify more than 1 volume type"))
			return
		}
		num++
		allErrs = append(allErrs, validate()...)
	}
	required := func(p *field.Path, pairs ...any) field.ErrorList {
		var errs field.ErrorList
		for i := 0; i < len(pairs); i += 2 {
			if pairs[i+1].(string) == "" {
				errs = append(errs, field.Required(p.Child(pairs[i].(string)), ""))
			}
		}
		return errs
	}
	if src.EmptyDir != nil {
		num++
		if src.EmptyDir.SizeLimit != nil && src.EmptyDir.SizeLimit.Cmp(resource.Quantity{}) < 0 {
			allErrs = append(allErrs, field.Forbidden(fldPath.Child("emptyDir").Child("sizeLimit"), "SizeLimit field must be a valid resource quantity"))
		}
	}
	one(src.HostPath != nil, "hostPath", func() field.ErrorList { return validateHostPath(src.HostPath, fldPath.Child("hostPath")) })
	one(src.GitRepo != nil, "gitRepo", func() field.ErrorList {
		p := fldPath.Child("gitRepo")
		errs := required(p, "repository", src.GitRepo.Repository)
		return append(errs, validateLocalDescendingPath(src.GitRepo.Directory, p.Child("directory"))...)
	})
	one(src.GCEPersistentDisk != nil, "gcePersistentDisk", func() field.ErrorList {
		p := fldPath.Child("persistentDisk")
		errs := required(p, "pdName", src.GCEPersistentDisk.PDName)
		if pt := src.GCEPersistentDisk.Partition; pt < 0 || pt > 255 {
			errs = append(errs, field.Invalid(p.Child("partition"), pt, validation.InclusiveRangeError(1, 255)))
		}
		return errs
	})
	one(src.AWSElasticBlockStore != nil, "awsElasticBlockStore", func() field.ErrorList {
		p := fldPath.Child("awsElasticBlockStore")
		errs := required(p, "volumeID", src.AWSElasticBlockStore.VolumeID)
		if pt := src.AWSElasticBlockStore.Partition; pt < 0 || pt > 255 {
			errs = append(errs, field.Invalid(p.Child("partition"), pt, validation.InclusiveRangeError(1, 255)))
		}
		return errs
	})
	one(src.Secret != nil, "secret", func() field.ErrorList {
		p := fldPath.Child("secret")
		errs := required(p, "secretName", src.Secret.SecretName)
		errs = append(errs, validateFileMode(src.Secret.DefaultMode, p.Child("defaultMode"))...)
		for i := range src.Secret.Items {
			errs = append(errs, validateKeyToPath(&src.Secret.Items[i], p.Child("items").Index(i))...)
		}
		return errs
	})
	one(src.NFS != nil, "nfs", func() field.ErrorList {
		p := fldPath.Child("nfs")
		errs := required(p, "server", src.NFS.Server, "path", src.NFS.Path)
		if !path.IsAbs(src.NFS.Path) {
			errs = append(errs, field.Invalid(p.Child("path"), src.NFS.Path, "must be an absolute path"))
		}
		return errs
	})
	one(src.ISCSI != nil, "iscsi", func() field.ErrorList {
		p := fldPath.Child("iscsi")
		errs := required(p, "targetPortal", src.ISCSI.TargetPortal, "iqn", src.ISCSI.IQN)
		if src.ISCSI.Lun < 0 || src.ISCSI.Lun > 255 {
			errs = append(errs, field.Invalid(p.Child("lun"), src.ISCSI.Lun, validation.InclusiveRangeError(0, 255)))
		}
		if (src.ISCSI.DiscoveryCHAPAuth || src.ISCSI.SessionCHAPAuth) && src.ISCSI.SecretRef == nil {
			errs = append(errs, field.Required(p.Child("secretRef"), ""))
		}
		return errs
	})
	one(src.Glusterfs != nil, "glusterfs", func() field.ErrorList {
		return required(fldPath.Child("glusterfs"), "endpoints", src.Glusterfs.EndpointsName, "path", src.Glusterfs.Path)
	})
	one(src.Flocker != nil, "flocker", func() field.ErrorList { return validateFlocker(src.Flocker, fldPath.Child("flocker")) })
	one(src.PersistentVolumeClaim != nil, "persistentVolumeClaim", func() field.ErrorList {
		return required(fldPath.Child("persistentVolumeClaim"), "claimName", src.PersistentVolumeClaim.ClaimName)
	})
	one(src.RBD != nil, "rbd", func() field.ErrorList {
		p := fldPath.Child("rbd")
		var errs field.ErrorList
		if len(src.RBD.CephMonitors) == 0 {
			errs = append(errs, field.Required(p.Child("monitors"), ""))
		}
		return append(errs, required(p, "image", src.RBD.RBDImage)...)
	})
	one(src.Cinder != nil, "cinder", func() field.ErrorList {
		p := fldPath.Child("cinder")
		errs := required(p, "volumeID", src.Cinder.VolumeID)
		if src.Cinder.SecretRef != nil && src.Cinder.SecretRef.Name == "" {
			errs = append(errs, field.Required(p.Child("secretRef", "name"), ""))
		}
		return errs
	})
	one(src.CephFS != nil, "cephFS", func() field.ErrorList {
		if len(src.CephFS.Monitors) == 0 {
			return field.ErrorList{field.Required(fldPath.Child("cephfs").Child("monitors"), "")}
		}
		return nil
	})
	one(src.Quobyte != nil, "quobyte", func() field.ErrorList {
		return required(fldPath.Child("quobyte"), "registry", src.Quobyte.Registry, "volume", src.Quobyte.Volume)
	})
	one(src.DownwardAPI != nil, "downwarAPI", func() field.ErrorList {
		p := fldPath.Child("downwardAPI")
		errs := validateFileMode(src.DownwardAPI.DefaultMode, p.Child("defaultMode"))
		for i := range src.DownwardAPI.Items {
			errs = append(errs, validateDownwardAPIVolumeFile(&src.DownwardAPI.Items[i], p)...)
		}
		return errs
	})
	one(src.FC != nil, "fc", func() field.ErrorList {
		p := fldPath.Child("fc")
		var errs field.ErrorList
		if len(src.FC.TargetWWNs) < 1 && len(src.FC.WWIDs) < 1 {
			errs = append(errs, field.Required(p.Child("targetWWNs"), "must specify either targetWWNs or wwids, but not both"))
		}
		if len(src.FC.TargetWWNs) != 0 && len(src.FC.WWIDs) != 0 {
			errs = append(errs, field.Invalid(p.Child("targetWWNs"), src.FC.TargetWWNs, "targetWWNs and wwids can not be specified simultaneously"))
		}
		if len(src.FC.TargetWWNs) != 0 {
			if src.FC.Lun == nil {
				errs = append(errs, field.Required(p.Child("lun"), "lun is required if targetWWNs is specified"))
			} else if *src.FC.Lun < 0 || *src.FC.Lun > 255 {
				errs = append(errs, field.Invalid(p.Child("lun"), src.FC.Lun, validation.InclusiveRangeError(0, 255)))
			}
		}
		return errs
	})
	one(src.FlexVolume != nil, "flexVolume", func() field.ErrorList {
		return required(fldPath.Child("flexVolume"), "driver", src.FlexVolume.Driver)
	})
	one(src.ConfigMap != nil, "configMap", func() field.ErrorList {
		p := fldPath.Child("configMap")
		errs := required(p, "name", src.ConfigMap.Name)
		errs = append(errs, validateFileMode(src.ConfigMap.DefaultMode, p.Child("defaultMode"))...)
		for i := range src.ConfigMap.Items {
			errs = append(errs, validateKeyToPath(&src.ConfigMap.Items[i], p.Child("items").Index(i))...)
		}
		return errs
	})
	one(src.AzureFile != nil, "azureFile", func() field.ErrorList {
		return required(fldPath.Child("azureFile"), "secretName", src.AzureFile.SecretName, "shareName", src.AzureFile.ShareName)
	})
	one(src.VsphereVolume != nil, "vsphereVolume", func() field.ErrorList {
		return required(fldPath.Child("vsphereVolume"), "volumePath", src.VsphereVolume.VolumePath)
	})
	one(src.PhotonPersistentDisk != nil, "photonPersistentDisk", func() field.ErrorList {
		return required(fldPath.Child("photonPersistentDisk"), "pdID", src.PhotonPersistentDisk.PdID)
	})
	one(src.PortworxVolume != nil, "portworxVolume", func() field.ErrorList {
		return required(fldPath.Child("portworxVolume"), "volumeID", src.PortworxVolume.VolumeID)
	})
	one(src.AzureDisk != nil, "azureDisk", func() field.ErrorList {
		return required(fldPath.Child("azureDisk"), "diskName", src.AzureDisk.DiskName, "diskURI", src.AzureDisk.DataDiskURI)
	})
	one(src.StorageOS != nil, "storageos", func() field.ErrorList {
		p := fldPath.Child("storageos")
		if src.StorageOS.VolumeName == "" {
			return field.ErrorList{field.Required(p.Child("volumeName"), "")}
		}
		return validateDNS1123Label(src.StorageOS.VolumeName, p.Child("volumeName"))
	})
	one(src.Projected != nil, "projected", func() field.ErrorList { return v.validateProjected(src.Projected, fldPath.Child("projected")) })
	one(src.ScaleIO != nil, "scaleIO", func() field.ErrorList {
		return required(fldPath.Child("scaleIO"), "gateway", src.ScaleIO.Gateway, "system", src.ScaleIO.System, "volumeName", src.ScaleIO.VolumeName)
	})
	one(src.CSI != nil, "csi", func() field.ErrorList {
		p := fldPath.Child("csi")
		errs := validateCSIDriverName(src.CSI.Driver, p.Child("driver"))
		if r := src.CSI.NodePublishSecretRef; r != nil {
			if r.Name == "" {
				errs = append(errs, field.Required(p.Child("nodePublishSecretRef", "name"), ""))
			} else {
				errs = append(errs, validateNameFn(validateSecretName, r.Name, p.Child("name"))...)
			}
		}
		return errs
	})
	one(src.Ephemeral != nil, "ephemeral", func() field.ErrorList {
		p := fldPath.Child("ephemeral")
		if src.Ephemeral.VolumeClaimTemplate == nil {
			return field.ErrorList{field.Required(p.Child("volumeClaimTemplate"), "")}
		}
		t := src.Ephemeral.VolumeClaimTemplate
		tp := p.Child("volumeClaimTemplate")
		errs := apimachineryvalidation.ValidateAnnotations(t.Annotations, tp.Child("metadata").Child("annotations"))
		errs = append(errs, metav1validation.ValidateLabels(t.Labels, tp.Child("metadata").Child("labels"))...)
		errs = append(errs, validatePVCSpec(&t.Spec, tp.Child("spec"))...)
		if v.podMeta != nil && v.podMeta.Name != "" && volName != "" {
			pvcName := v.podMeta.Name + "-" + volName
			for _, msg := range validatePVName(pvcName, false) {
				errs = append(errs, field.Invalid(fldPath.Child("name"), volName, fmt.Sprintf("PVC name %q: %v", pvcName, msg)))
			}
		}
		return errs
	})
	one(src.Image != nil, "image", func() field.ErrorList {
		p := fldPath.Child("image")
		var errs field.ErrorList
		if v.resourceIsPod && src.Image.Reference == "" {
			errs = append(errs, field.Required(p.Child("reference"), ""))
		}
		return append(errs, validatePullPolicy(src.Image.PullPolicy, p.Child("pullPolicy"))...)
	})
	if num == 0 {
		allErrs = append(allErrs, field.Required(fldPath, "must specify a volume type"))
	}
	return allErrs
}

func validateCSIDriverName(name string, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if name == "" {
		allErrs = append(allErrs, field.Required(fldPath, ""))
	}
	if len(name) > 63 {
		allErrs = append(allErrs, field.TooLong(fldPath, "", 63))
	}
	for _, msg := range validation.IsDNS1123Subdomain(strings.ToLower(name)) {
		allErrs = append(allErrs, field.Invalid(fldPath, name, msg))
	}
	return allErrs
}

func validateFlocker(f *corev1.FlockerVolumeSource, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if f.DatasetName == "" && f.DatasetUUID == "" {
		allErrs = append(allErrs, field.Required(fldPath, "one of datasetName and datasetUUID is required"))
	}
	if f.DatasetName != "" && f.DatasetUUID != "" {
		allErrs = append(allErrs, field.Invalid(fldPath, "resource", "datasetName and datasetUUID can not be specified simultaneously"))
	}
	if strings.Contains(f.DatasetName, "/") {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("datasetName"), f.DatasetName, "must not contain '/'"))
	}
	return allErrs
}

var supportedHostPathTypes = []corev1.HostPathType{
	corev1.HostPathUnset, corev1.HostPathBlockDev, corev1.HostPathCharDev, corev1.HostPathDirectory,
	corev1.HostPathDirectoryOrCreate, corev1.HostPathFile, corev1.HostPathFileOrCreate, corev1.HostPathSocket,
}

func validateHostPath(hp *corev1.HostPathVolumeSource, fldPath *field.Path) field.ErrorList {
	if hp.Path == "" {
		return field.ErrorList{field.Required(fldPath.Child("path"), "")}
	}
	allErrs := validatePathNoBacksteps(hp.Path, fldPath.Child("path"))
	if hp.Type != nil {
		ok := false
		for _, t := range supportedHostPathTypes {
			if *hp.Type == t {
				ok = true
			}
		}
		if !ok {
			allErrs = append(allErrs, field.NotSupported(fldPath.Child("type"), hp.Type, supportedHostPathTypes))
		}
	}
	return allErrs
}

func validateKeyToPath(kp *corev1.KeyToPath, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if kp.Key == "" {
		allErrs = append(allErrs, field.Required(fldPath.Child("key"), ""))
	}
	if kp.Path == "" {
		allErrs = append(allErrs, field.Required(fldPath.Child("path"), ""))
	}
	allErrs = append(allErrs, validateLocalNonReservedPath(kp.Path, fldPath.Child("path"))...)
	return append(allErrs, validateFileMode(kp.Mode, fldPath.Child("mode"))...)
}

var validVolumeDownwardAPIFieldPaths = []string{"metadata.annotations", "metadata.labels", "metadata.name", "metadata.namespace", "metadata.uid"}

func validateDownwardAPIVolumeFile(f *corev1.DownwardAPIVolumeFile, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if f.Path == "" {
		allErrs = append(allErrs, field.Required(fldPath.Child("path"), ""))
	}
	allErrs = append(allErrs, validateLocalNonReservedPath(f.Path, fldPath.Child("path"))...)
	switch {
	case f.FieldRef != nil:
		allErrs = append(allErrs, validateObjectFieldSelector(f.FieldRef, validVolumeDownwardAPIFieldPaths, fldPath.Child("fieldRef"))...)
		if f.ResourceFieldRef != nil {
			allErrs = append(allErrs, field.Invalid(fldPath, "resource", "fieldRef and resourceFieldRef can not be specified simultaneously"))
		}
	case f.ResourceFieldRef != nil:
		allErrs = append(allErrs, validateResourceFieldSelector(f.ResourceFieldRef, fldPath.Child("resourceFieldRef"), true)...)
	default:
		allErrs = append(allErrs, field.Required(fldPath, "one of fieldRef and resourceFieldRef is required"))
	}
	return append(allErrs, validateFileMode(f.Mode, fldPath.Child("mode"))...)
}

func (v *podSpecValidator) validateProjected(p *corev1.ProjectedVolumeSource, fldPath *field.Path) field.ErrorList {
	allErrs := validateFileMode(p.DefaultMode, fldPath.Child("defaultMode"))
	paths := map[string]bool{}
	addPath := func(pth string, value interface{}) {
		if pth == "" {
			return
		}
		if paths[pth] {
			allErrs = append(allErrs, field.Invalid(fldPath, value, "conflicting duplicate paths"))
		}
		paths[pth] = true
	}
	for i, s := range p.Sources {
		n := 0
		srcPath := fldPath.Child("sources").Index(i)
		if s.Secret != nil {
			n++
			pp := srcPath.Child("secret")
			if s.Secret.Name == "" {
				allErrs = append(allErrs, field.Required(pp.Child("name"), ""))
			}
			for j := range s.Secret.Items {
				allErrs = append(allErrs, validateKeyToPath(&s.Secret.Items[j], pp.Child("items").Index(j))...)
				addPath(s.Secret.Items[j].Path, s.Secret.Name)
			}
		}
		if s.ConfigMap != nil {
			n++
			pp := srcPath.Child("configMap")
			if s.ConfigMap.Name == "" {
				allErrs = append(allErrs, field.Required(pp.Child("name"), ""))
			}
			for j := range s.ConfigMap.Items {
				allErrs = append(allErrs, validateKeyToPath(&s.ConfigMap.Items[j], pp.Child("items").Index(j))...)
				addPath(s.ConfigMap.Items[j].Path, s.ConfigMap.Name)
			}
		}
		if s.DownwardAPI != nil {
			n++
			pp := srcPath.Child("downwardAPI")
			for j := range s.DownwardAPI.Items {
				allErrs = append(allErrs, validateDownwardAPIVolumeFile(&s.DownwardAPI.Items[j], pp)...)
				addPath(s.DownwardAPI.Items[j].Path, s.DownwardAPI.Items[j].Path)
			}
		}
		if t := s.ServiceAccountToken; t != nil {
			n++
			pp := srcPath.Child("serviceAccountToken")
			if t.ExpirationSeconds != nil && *t.ExpirationSeconds < 10*60 {
				allErrs = append(allErrs, field.Invalid(pp.Child("expirationSeconds"), *t.ExpirationSeconds, "may not specify a duration less than 10 minutes"))
			}
			if t.ExpirationSeconds != nil && *t.ExpirationSeconds > 1<<32 {
				allErrs = append(allErrs, field.Invalid(pp.Child("expirationSeconds"), *t.ExpirationSeconds, "may not specify a duration larger than 2^32 seconds"))
			}
			if t.Path == "" {
				allErrs = append(allErrs, field.Required(fldPath.Child("path"), ""))
			} else {
				allErrs = append(allErrs, validateLocalNonReservedPath(t.Path, fldPath.Child("path"))...)
			}
		}
		if s.ClusterTrustBundle != nil {
			n++
			pp := srcPath.Child("clusterTrustBundle")
			if s.ClusterTrustBundle.Path == "" {
				allErrs = append(allErrs, field.Required(pp.Child("path"), ""))
			}
			allErrs = append(allErrs, validateLocalNonReservedPath(s.ClusterTrustBundle.Path, pp.Child("path"))...)
			addPath(s.ClusterTrustBundle.Path, s.ClusterTrustBundle.Path)
		}
		if s.PodCertificate != nil {
			n++
		}
		if n > 1 {
			allErrs = append(allErrs, field.Forbidden(srcPath, "may not specify more than 1 volume type per source"))
		}
	}
	return allErrs
}

func validatePathNoBacksteps(target string, fldPath *field.Path) field.ErrorList {
	for _, item := range strings.Split(filepath.ToSlash(target), "/") {
		if item == ".." {
			return field.ErrorList{field.Invalid(fldPath, target, "must not contain '..'")}
		}
	}
	return nil
}

func validateLocalDescendingPath(target string, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if path.IsAbs(target) {
		allErrs = append(allErrs, field.Invalid(fldPath, target, "must be a relative path"))
	}
	return append(allErrs, validatePathNoBacksteps(target, fldPath)...)
}

func validateLocalNonReservedPath(target string, fldPath *field.Path) field.ErrorList {
	allErrs := validateLocalDescendingPath(target, fldPath)
	if strings.HasPrefix(target, "..") && !strings.HasPrefix(target, "../") {
		allErrs = append(allErrs, field.Invalid(fldPath, target, "must not start with '..'"))
	}
	return allErrs
}

func (v *podSpecValidator) validatePodResourceClaims(fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for _, c := range v.spec.ResourceClaims {
		if c.Name != "" {
			v.podClaims[c.Name] = true
		}
	}
	seen := map[string]bool{}
	for i, c := range v.spec.ResourceClaims {
		p := fldPath.Index(i)
		switch {
		case c.Name == "":
			allErrs = append(allErrs, field.Required(p.Child("name"), ""))
		case seen[c.Name]:
			allErrs = append(allErrs, field.Duplicate(p.Child("name"), c.Name))
		default:
			allErrs = append(allErrs, validateDNS1123Label(c.Name, p.Child("name"))...)
			seen[c.Name] = true
		}
		if c.ResourceClaimName != nil && c.ResourceClaimTemplateName != nil {
			allErrs = append(allErrs, field.Invalid(p, c, "at most one of `resourceClaimName` or `resourceClaimTemplateName` may be specified"))
		}
		if c.ResourceClaimName == nil && c.ResourceClaimTemplateName == nil {
			allErrs = append(allErrs, field.Invalid(p, c, "must specify one of: `resourceClaimName`, `resourceClaimTemplateName`"))
		}
		if c.ResourceClaimName != nil {
			allErrs = append(allErrs, validateNameFn(apimachineryvalidation.NameIsDNSSubdomain, *c.ResourceClaimName, p.Child("resourceClaimName"))...)
		}
		if c.ResourceClaimTemplateName != nil {
			allErrs = append(allErrs, validateNameFn(apimachineryvalidation.NameIsDNSSubdomain, *c.ResourceClaimTemplateName, p.Child("resourceClaimTemplateName"))...)
		}
	}
	return allErrs
}
