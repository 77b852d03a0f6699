package statefulset

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/herd-project/herd/pkg/controller/history"
	"github.com/herd-project/herd/pkg/controller/internal/replication"
)

var (
	controllerKind = appsv1.SchemeGroupVersion.WithKind("StatefulSet")
	podKind        = corev1.SchemeGroupVersion.WithKind("Pod")
)

// statefulPodRegex matches "<parent>-<ordinal>".
var statefulPodRegex = regexp.MustCompile("(.*)-([0-9]+)$")

// parentAndOrdinal splits a pod name into its StatefulSet's name and its
// ordinal; the ordinal is -1 for names not of that form.
func parentAndOrdinal(pod *corev1.Pod) (string, int) {
	m := statefulPodRegex.FindStringSubmatch(pod.Name)
	if len(m) != 3 {
		return "", -1
	}
	i, err := strconv.ParseInt(m[2], 10, 32)
	if err != nil {
		return "", -1
	}
	return m[1], int(i)
}

func getOrdinal(pod *corev1.Pod) int {
	_, o := parentAndOrdinal(pod)
	return o
}

func getStartOrdinal(set *appsv1.StatefulSet) int {
	if set.Spec.Ordinals != nil {
		return int(set.Spec.Ordinals.Start)
	}
	return 0
}

// getEndOrdinal is the last ordinal of the set's range (start-1 for none).
func getEndOrdinal(set *appsv1.StatefulSet) int {
	return getStartOrdinal(set) + int(replicasOf(set)) - 1
}

func replicasOf(set *appsv1.StatefulSet) int32 {
	if set.Spec.Replicas == nil {
		return 1
	}
	return *set.Spec.Replicas
}

func podInOrdinalRange(pod *corev1.Pod, set *appsv1.StatefulSet) bool {
	o := getOrdinal(pod)
	return o >= getStartOrdinal(set) && o <= getEndOrdinal(set)
}

func getPodName(set *appsv1.StatefulSet, ordinal int) string {
	return fmt.Sprintf("%s-%d", set.Name, ordinal)
}

// isMemberOf: the pod's name says it belongs to the set.
func isMemberOf(set *appsv1.StatefulSet, pod *corev1.Pod) bool {
	parent, _ := parentAndOrdinal(pod)
	return parent == set.Name
}

func getPersistentVolumeClaimName(set *appsv1.StatefulSet, claim *corev1.PersistentVolumeClaim, ordinal int) string {
	return fmt.Sprintf("%s-%s-%d", claim.Name, set.Name, ordinal)
}

// identityMatches: name, namespace and pod-name label are the set's.
func identityMatches(set *appsv1.StatefulSet, pod *corev1.Pod) bool {
	parent, ordinal := parentAndOrdinal(pod)
	return ordinal >= 0 && set.Name == parent && pod.Name == getPodName(set, ordinal) &&
		pod.Namespace == set.Namespace && pod.Labels[appsv1.StatefulSetPodNameLabel] == pod.Name
}

// storageMatches: every claim template has a volume naming the pod's claim.
func storageMatches(set *appsv1.StatefulSet, pod *corev1.Pod) bool {
	ordinal := getOrdinal(pod)
	if ordinal < 0 {
		return false
	}
	volumes := make(map[string]corev1.Volume, len(pod.Spec.Volumes))
	for _, v := range pod.Spec.Volumes {
		volumes[v.Name] = v
	}
	for i := range set.Spec.VolumeClaimTemplates {
		claim := &set.Spec.VolumeClaimTemplates[i]
		v, ok := volumes[claim.Name]
		if !ok || v.PersistentVolumeClaim == nil || v.PersistentVolumeClaim.ClaimName != getPersistentVolumeClaimName(set, claim, ordinal) {
			return false
		}
	}
	return true
}

// getPersistentVolumeClaims builds the pod's claims, keyed by template
// name: the template with the claim's name, the set's namespace and the
// template's labels plus the selector's matchLabels.
func getPersistentVolumeClaims(set *appsv1.StatefulSet, pod *corev1.Pod) map[string]corev1.PersistentVolumeClaim {
	ordinal := getOrdinal(pod)
	claims := make(map[string]corev1.PersistentVolumeClaim, len(set.Spec.VolumeClaimTemplates))
	for i := range set.Spec.VolumeClaimTemplates {
		claim := set.Spec.VolumeClaimTemplates[i].DeepCopy()
		claim.Name = getPersistentVolumeClaimName(set, claim, ordinal)
		claim.Namespace = set.Namespace
		if claim.Labels == nil {
			claim.Labels = map[string]string{}
		}
		if set.Spec.Selector != nil {
			for k, v := range set.Spec.Selector.MatchLabels {
				claim.Labels[k] = v
			}
		}
		claims[set.Spec.VolumeClaimTemplates[i].Name] = *claim
	}
	return claims
}

// updateStorage points the pod's volumes named like claim templates at the
// pod's claims, adding the missing ones; other volumes stay.
func updateStorage(set *appsv1.StatefulSet, pod *corev1.Pod) {
	claims := getPersistentVolumeClaims(set, pod)
	names := make([]string, 0, len(claims))
	for name := range claims {
		names = append(names, name)
	}
	sort.Strings(names)
	volumes := make([]corev1.Volume, 0, len(claims)+len(pod.Spec.Volumes))
	for _, name := range names {
		volumes = append(volumes, corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claims[name].Name}}})
	}
	for _, v := range pod.Spec.Volumes {
		if _, ok := claims[v.Name]; !ok {
			volumes = append(volumes, v)
		}
	}
	pod.Spec.Volumes = volumes
}

// updateIdentity sets the pod's name, namespace and identity labels.
func updateIdentity(set *appsv1.StatefulSet, pod *corev1.Pod) {
	ordinal := getOrdinal(pod)
	pod.Name = getPodName(set, ordinal)
	pod.Namespace = set.Namespace
	if pod.Labels == nil {
		pod.Labels = map[string]string{}
	}
	pod.Labels[appsv1.StatefulSetPodNameLabel] = pod.Name
	pod.Labels[appsv1.PodIndexLabel] = strconv.Itoa(ordinal)
}

// newStatefulSetPod builds the pod of ordinal from the set's template:
// identity (hostname, subdomain), claim volumes and a controller reference.
func newStatefulSetPod(set *appsv1.StatefulSet, ordinal int) *corev1.Pod {
	pod := replication.PodFromTemplate(&set.Spec.Template, set.Namespace, set.Name, metav1.NewControllerRef(set, controllerKind))
	pod.GenerateName = ""
	pod.Name = getPodName(set, ordinal)
	updateIdentity(set, pod)
	// Set only at creation: both are immutable on a pod.
	pod.Spec.Hostname = pod.Name
	pod.Spec.Subdomain = set.Spec.ServiceName
	updateStorage(set, pod)
	return pod
}

// newVersionedStatefulSetPod builds the pod of ordinal at the current
// revision when a RollingUpdate partition holds it back, else at the update
// revision.
func newVersionedStatefulSetPod(currentSet, updateSet *appsv1.StatefulSet, currentRevision, updateRevision string, ordinal int) *corev1.Pod {
	ru := currentSet.Spec.UpdateStrategy.RollingUpdate
	if currentSet.Spec.UpdateStrategy.Type == appsv1.RollingUpdateStatefulSetStrategyType && ru != nil && ru.Partition != nil &&
		ordinal < getStartOrdinal(currentSet)+int(*ru.Partition) {
		pod := newStatefulSetPod(currentSet, ordinal)
		setPodRevision(pod, currentRevision)
		return pod
	}
	pod := newStatefulSetPod(updateSet, ordinal)
	setPodRevision(pod, updateRevision)
	return pod
}

func setPodRevision(pod *corev1.Pod, revision string) {
	if pod.Labels == nil {
		pod.Labels = map[string]string{}
	}
	pod.Labels[appsv1.StatefulSetRevisionLabel] = revision
}

func getPodRevision(pod *corev1.Pod) string {
	return pod.Labels[appsv1.StatefulSetRevisionLabel]
}

// Pod states as the StatefulSet controller sees them.
func isCreated(pod *corev1.Pod) bool     { return pod.Status.Phase != "" }
func isPending(pod *corev1.Pod) bool     { return pod.Status.Phase == corev1.PodPending }
func isFailed(pod *corev1.Pod) bool      { return pod.Status.Phase == corev1.PodFailed }
func isSucceeded(pod *corev1.Pod) bool   { return pod.Status.Phase == corev1.PodSucceeded }
func isTerminating(pod *corev1.Pod) bool { return pod.DeletionTimestamp != nil }

func isRunningAndReady(pod *corev1.Pod) bool {
	return pod.Status.Phase == corev1.PodRunning && replication.IsPodReady(pod)
}

func isRunningAndAvailable(pod *corev1.Pod, minReadySeconds int32, now time.Time) bool {
	return isRunningAndReady(pod) && replication.IsPodAvailable(pod, minReadySeconds, now)
}

// isUnavailable: not available for minReadySeconds, or terminating.
func isUnavailable(pod *corev1.Pod, minReadySeconds int32, now time.Time) bool {
	return !isRunningAndAvailable(pod, minReadySeconds, now) || isTerminating(pod)
}

func allowsBurst(set *appsv1.StatefulSet) bool {
	return set.Spec.PodManagementPolicy == appsv1.ParallelPodManagement
}

// getStatefulSetMaxUnavailable resolves maxUnavailable against replicas,
// rounding up, at least 1.
func getStatefulSetMaxUnavailable(v *intstr.IntOrString, replicas int) (int, error) {
	if v == nil {
		return 1, nil
	}
	n, err := intstr.GetScaledValueFromIntOrPercent(intstr.ValueOrDefault(v, intstr.FromInt32(1)), replicas, true)
	if err != nil {
		return 0, err
	}
	if n < 1 {
		n = 1
	}
	return n, nil
}

// revisionData is the shape of a StatefulSet revision's data: a strategic
// merge patch replacing spec.template.
type revisionData struct {
	Spec struct {
		Template corev1.PodTemplateSpec `json:"template"`
	} `json:"spec"`
}

// decodeRevision is the history.Decoder of StatefulSet revisions: the
// template, compared by meaning.
func decodeRevision(raw []byte) (any, error) {
	var d revisionData
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, err
	}
	return d.Spec.Template, nil
}

// getPatch is the revision data Kubernetes stores for a StatefulSet:
// {"spec":{"template":{...,"$patch":"replace"}}} with sorted keys, a strategic
// merge patch that restores the template (kubectl rollout undo applies it).
func getPatch(set *appsv1.StatefulSet) ([]byte, error) {
	b, err := json.Marshal(set.Spec.Template)
	if err != nil {
		return nil, err
	}
	var template map[string]any
	if err := json.Unmarshal(b, &template); err != nil {
		return nil, err
	}
	template["$patch"] = "replace"
	return json.Marshal(map[string]any{"spec": map[string]any{"template": template}})
}

// newRevision builds (does not create) the revision of set's template.
func newRevision(set *appsv1.StatefulSet, revision int64, collisionCount *int32) (*appsv1.ControllerRevision, error) {
	patch, err := getPatch(set)
	if err != nil {
		return nil, err
	}
	cr := history.New(set, controllerKind, set.Spec.Template.Labels, runtime.RawExtension{Raw: patch}, revision, collisionCount)
	if len(set.Annotations) > 0 {
		cr.Annotations = make(map[string]string, len(set.Annotations))
		for k, v := range set.Annotations {
			cr.Annotations[k] = v
		}
	}
	return cr, nil
}

// applyRevision returns a copy of set with the revision's template.
func applyRevision(set *appsv1.StatefulSet, rev *appsv1.ControllerRevision) (*appsv1.StatefulSet, error) {
	var d revisionData
	if err := json.Unmarshal(rev.Data.Raw, &d); err != nil {
		return nil, fmt.Errorf("revision %s holds no StatefulSet template: %w", rev.Name, err)
	}
	clone := set.DeepCopy()
	clone.Spec.Template = d.Spec.Template
	return clone, nil
}

// Claim retention: ownerReferences on a claim as Kubernetes sets them.

func retentionPolicy(set *appsv1.StatefulSet) appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy {
	p := appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
		WhenDeleted: appsv1.RetainPersistentVolumeClaimRetentionPolicyType,
		WhenScaled:  appsv1.RetainPersistentVolumeClaimRetentionPolicyType,
	}
	if set.Spec.PersistentVolumeClaimRetentionPolicy != nil {
		if w := set.Spec.PersistentVolumeClaimRetentionPolicy.WhenDeleted; w != "" {
			p.WhenDeleted = w
		}
		if w := set.Spec.PersistentVolumeClaimRetentionPolicy.WhenScaled; w != "" {
			p.WhenScaled = w
		}
	}
	return p
}

func hasOwnerRef(target, owner metav1.Object) bool {
	for _, r := range target.GetOwnerReferences() {
		if r.UID == owner.GetUID() {
			return true
		}
	}
	return false
}

// matchesRef: ref names obj (by kind and name, any UID).
func matchesRef(ref *metav1.OwnerReference, obj metav1.Object, gvk schema.GroupVersionKind) bool {
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	return err == nil && gv.Group == gvk.Group && ref.Kind == gvk.Kind && ref.Name == obj.GetName()
}

// hasStaleOwnerRef: a ref names obj but with another UID (an earlier
// incarnation): the claim is left alone until the collector settles it.
func hasStaleOwnerRef(claim *corev1.PersistentVolumeClaim, obj metav1.Object, gvk schema.GroupVersionKind) bool {
	for i := range claim.OwnerReferences {
		if matchesRef(&claim.OwnerReferences[i], obj, gvk) {
			return claim.OwnerReferences[i].UID != obj.GetUID()
		}
	}
	return false
}

// hasUnexpectedController: the claim has a controller other than set and pod.
func hasUnexpectedController(claim *corev1.PersistentVolumeClaim, set *appsv1.StatefulSet, pod *corev1.Pod) bool {
	for _, r := range claim.OwnerReferences {
		if r.Controller != nil && *r.Controller && r.UID != set.UID && r.UID != pod.UID {
			return true
		}
	}
	return false
}

// hasNonControllerOwner: set or pod owns the claim without being controller.
func hasNonControllerOwner(claim *corev1.PersistentVolumeClaim, set *appsv1.StatefulSet, pod *corev1.Pod) bool {
	for _, r := range claim.OwnerReferences {
		if (r.UID == set.UID || r.UID == pod.UID) && (r.Controller == nil || !*r.Controller) {
			return true
		}
	}
	return false
}

// claimOwnerMatchesSetAndPod says whether the claim's references already
// say what the retention policy wants: whenDeleted Delete → the set controls
// the claim; whenScaled Delete → the pod of a condemned ordinal controls it.
func claimOwnerMatchesSetAndPod(claim *corev1.PersistentVolumeClaim, set *appsv1.StatefulSet, pod *corev1.Pod) bool {
	if hasStaleOwnerRef(claim, set, controllerKind) || hasStaleOwnerRef(claim, pod, podKind) {
		return true
	}
	if hasUnexpectedController(claim, set, pod) {
		return !hasOwnerRef(claim, set) && !hasOwnerRef(claim, pod)
	}
	if hasNonControllerOwner(claim, set, pod) {
		return false
	}
	wantSet, wantPod := wantedClaimOwners(set, pod)
	return hasOwnerRef(claim, set) == wantSet && hasOwnerRef(claim, pod) == wantPod
}

func wantedClaimOwners(set *appsv1.StatefulSet, pod *corev1.Pod) (wantSet, wantPod bool) {
	p := retentionPolicy(set)
	del := appsv1.DeletePersistentVolumeClaimRetentionPolicyType
	scaledDown := !podInOrdinalRange(pod, set)
	switch {
	case p.WhenScaled == del && scaledDown:
		return false, true
	case p.WhenDeleted == del:
		return true, false
	}
	return false, false
}

// updateClaimOwnerRefForSetAndPod rewrites the claim's references to set and
// pod as the retention policy wants; other owners stay.
func updateClaimOwnerRefForSetAndPod(claim *corev1.PersistentVolumeClaim, set *appsv1.StatefulSet, pod *corev1.Pod) {
	unexpected := hasUnexpectedController(claim, set, pod)
	var refs []metav1.OwnerReference
	for i := range claim.OwnerReferences {
		r := claim.OwnerReferences[i]
		if matchesRef(&r, set, controllerKind) || matchesRef(&r, pod, podKind) {
			continue
		}
		refs = append(refs, r)
	}
	if !unexpected {
		wantSet, wantPod := wantedClaimOwners(set, pod)
		if wantSet {
			refs = append(refs, *metav1.NewControllerRef(set, controllerKind))
		}
		if wantPod {
			refs = append(refs, *metav1.NewControllerRef(pod, podKind))
		}
	}
	claim.OwnerReferences = refs
}

// completeRollingUpdate: once every replica is updated and ready, the
// update revision becomes current.
func completeRollingUpdate(set *appsv1.StatefulSet, status *appsv1.StatefulSetStatus) {
	r := replicasOf(set)
	if set.Spec.UpdateStrategy.Type == appsv1.RollingUpdateStatefulSetStrategyType &&
		status.UpdatedReplicas == r && status.ReadyReplicas == r && status.Replicas == r {
		status.CurrentReplicas = status.UpdatedReplicas
		status.CurrentRevision = status.UpdateRevision
	}
}

type ascendingOrdinal []*corev1.Pod

func (a ascendingOrdinal) Len() int           { return len(a) }
func (a ascendingOrdinal) Swap(i, j int)      { a[i], a[j] = a[j], a[i] }
func (a ascendingOrdinal) Less(i, j int) bool { return getOrdinal(a[i]) < getOrdinal(a[j]) }
