package statefulset

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"

	"github.com/herd-project/herd/pkg/controller/history"
)

func TestOrderedReadyCreatesOneAtATimeWithIdentity(t *testing.T) {
	set := newSet(3)
	f := newFixture(t, set)
	f.sync(set)
	must(t, f.podNames("ns") == "web-0", "after first sync: %s", f.podNames("ns"))
	p := f.pod("ns", "web-0")
	must(t, p.Spec.Hostname == "web-0" && p.Spec.Subdomain == "nginx", "hostname %q subdomain %q", p.Spec.Hostname, p.Spec.Subdomain)
	must(t, p.Labels[appsv1.StatefulSetPodNameLabel] == "web-0" && p.Labels[appsv1.PodIndexLabel] == "0" && p.Labels["app"] == "web",
		"labels %v", p.Labels)
	ref := metav1.GetControllerOf(p)
	must(t, ref != nil && ref.UID == set.UID && ref.Kind == "StatefulSet" && ref.APIVersion == "apps/v1", "controller ref %+v", ref)
	rev := p.Labels[appsv1.StatefulSetRevisionLabel]
	must(t, strings.HasPrefix(rev, "web-"), "revision label %q", rev)
	ev := f.events()
	must(t, len(ev) == 1 && ev[0] == "Normal SuccessfulCreate create Pod web-0 in StatefulSet web successful", "events %q", ev)

	// web-0 pending: nothing more.
	f.sync(set)
	must(t, f.podNames("ns") == "web-0", "with web-0 pending: %s", f.podNames("ns"))
	// Running but not ready: still nothing.
	f.setPhase("ns", "web-0", corev1.PodRunning)
	f.sync(set)
	must(t, f.podNames("ns") == "web-0", "with web-0 not ready: %s", f.podNames("ns"))
	f.ready("ns", "web-0")
	f.sync(set)
	must(t, f.podNames("ns") == "web-0,web-1", "after web-0 ready: %s", f.podNames("ns"))
	f.ready("ns", "web-1")
	f.sync(set)
	f.ready("ns", "web-2")
	f.sync(set)
	st := f.set("ns", "web").Status
	must(t, st.Replicas == 3 && st.ReadyReplicas == 3 && st.AvailableReplicas == 3 && st.CurrentReplicas == 3 &&
		st.UpdatedReplicas == 3 && st.CurrentRevision == rev && st.UpdateRevision == rev && st.ObservedGeneration == 1 &&
		ptr.Deref(st.CollisionCount, -1) == 0, "status %+v", st)
}

func TestMinReadySecondsHoldsTheNextPod(t *testing.T) {
	set := newSet(2)
	set.Spec.MinReadySeconds = 10
	f := newFixture(t, set)
	f.sync(set)
	f.ready("ns", "web-0")
	f.sync(set)
	must(t, f.podNames("ns") == "web-0", "web-1 created before web-0 was available: %s", f.podNames("ns"))
	st := f.set("ns", "web").Status
	must(t, st.ReadyReplicas == 1 && st.AvailableReplicas == 0, "status %+v", st)
	f.clock.Step(11 * time.Second)
	f.sync(set)
	must(t, f.podNames("ns") == "web-0,web-1", "after minReadySeconds: %s", f.podNames("ns"))
}

func TestOrdinalsStart(t *testing.T) {
	set := newSet(2)
	set.Spec.Ordinals = &appsv1.StatefulSetOrdinals{Start: 5}
	set.Spec.PodManagementPolicy = appsv1.ParallelPodManagement
	f := newFixture(t, set)
	f.sync(set)
	must(t, f.podNames("ns") == "web-5,web-6", "pods %s", f.podNames("ns"))
	must(t, f.pod("ns", "web-6").Labels[appsv1.PodIndexLabel] == "6", "pod-index label")
}

func TestParallelCreatesAllAtOnce(t *testing.T) {
	set := newSet(3)
	set.Spec.PodManagementPolicy = appsv1.ParallelPodManagement
	f := newFixture(t, set)
	f.sync(set)
	must(t, f.podNames("ns") == "web-0,web-1,web-2", "pods %s", f.podNames("ns"))
}

func TestOrderedScaleDownInReverseWaitingForEachDeletion(t *testing.T) {
	set := newSet(3)
	set.Spec.PodManagementPolicy = appsv1.ParallelPodManagement
	f := newFixture(t, set)
	f.sync(set)
	f.readyAll("ns")
	// Back to OrderedReady for the scale-down (the tests may; the API may not).
	s := f.set("ns", "web")
	s.Spec.PodManagementPolicy = appsv1.OrderedReadyPodManagement
	s.Spec.Replicas = ptr.To[int32](0)
	s = f.updateSet(s)
	f.gracefulDeletes()
	f.sync(s)
	must(t, f.pod("ns", "web-2").DeletionTimestamp != nil && f.pod("ns", "web-1").DeletionTimestamp == nil, "web-2 first")
	f.sync(s)
	must(t, f.pod("ns", "web-1").DeletionTimestamp == nil, "web-1 deleted while web-2 was terminating")
	f.finishDeletes("ns")
	f.sync(s)
	must(t, f.pod("ns", "web-1").DeletionTimestamp != nil && f.pod("ns", "web-0").DeletionTimestamp == nil, "then web-1")
	f.finishDeletes("ns")
	f.sync(s)
	f.finishDeletes("ns")
	must(t, f.podNames("ns") == "", "left: %s", f.podNames("ns"))
	var deletes []string
	for _, e := range f.events() {
		if strings.Contains(e, "SuccessfulDelete") {
			deletes = append(deletes, e)
		}
	}
	must(t, len(deletes) == 3 && deletes[0] == "Normal SuccessfulDelete delete Pod web-2 in StatefulSet web successful" &&
		strings.Contains(deletes[2], "web-0"), "delete events %q", deletes)
}

func TestParallelScaleDownDeletesAllAtOnce(t *testing.T) {
	set := newSet(3)
	set.Spec.PodManagementPolicy = appsv1.ParallelPodManagement
	f := newFixture(t, set)
	f.sync(set)
	f.readyAll("ns")
	s := f.set("ns", "web")
	s.Spec.Replicas = ptr.To[int32](0)
	s = f.updateSet(s)
	f.sync(s)
	must(t, f.podNames("ns") == "", "left: %s", f.podNames("ns"))
}

func TestOrderedReadyHaltsOnUnhealthyPod(t *testing.T) {
	set := newSet(3)
	set.Spec.PodManagementPolicy = appsv1.ParallelPodManagement
	f := newFixture(t, set)
	f.sync(set)
	f.readyAll("ns")
	s := f.set("ns", "web")
	s.Spec.PodManagementPolicy = appsv1.OrderedReadyPodManagement
	s.Spec.Replicas = ptr.To[int32](2)
	s = f.updateSet(s)
	// web-0 turns unready: neither scale-down nor anything else proceeds.
	p := f.pod("ns", "web-0")
	p.Status.Conditions[0].Status = corev1.ConditionFalse
	f.updatePodStatus(p)
	f.sync(s)
	must(t, f.podNames("ns") == "web-0,web-1,web-2", "scaled down past an unhealthy pod: %s", f.podNames("ns"))
	f.ready("ns", "web-0")
	f.sync(s)
	must(t, f.podNames("ns") == "web-0,web-1", "after recovery: %s", f.podNames("ns"))
}

func TestFailedPodIsDeletedAndRecreated(t *testing.T) {
	set := newSet(1)
	f := newFixture(t, set)
	f.sync(set)
	f.setPhase("ns", "web-0", corev1.PodFailed)
	f.events()
	f.sync(set)
	must(t, f.podNames("ns") == "", "failed pod not deleted: %s", f.podNames("ns"))
	ev := f.events()
	must(t, len(ev) == 2 && ev[0] == "Warning RecreatingFailedPod StatefulSet ns/web is recreating failed Pod web-0" &&
		ev[1] == "Normal SuccessfulDelete delete Pod web-0 in StatefulSet web successful", "events %q", ev)
	f.sync(set)
	must(t, f.podNames("ns") == "web-0", "not recreated: %s", f.podNames("ns"))
}

func claimTemplate(name string) corev1.PersistentVolumeClaim {
	return corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"tier": "data"}},
		Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}},
	}
}

func TestClaimsCreatedBeforePod(t *testing.T) {
	set := newSet(1)
	set.Spec.VolumeClaimTemplates = []corev1.PersistentVolumeClaim{claimTemplate("data")}
	set.Spec.Template.Spec.Volumes = []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
	f := newFixture(t, set)
	f.sync(set)
	var order []string
	for _, a := range f.client.Actions() {
		if a.GetVerb() == "create" {
			order = append(order, a.GetResource().Resource)
		}
	}
	must(t, strings.Join(order, ",") == "controllerrevisions,persistentvolumeclaims,pods", "create order %v", order)
	pvc, err := f.client.CoreV1().PersistentVolumeClaims("ns").Get(f.ctx(), "data-web-0", metav1.GetOptions{})
	must(t, err == nil, "claim: %v", err)
	must(t, pvc.Labels["tier"] == "data" && pvc.Labels["app"] == "web", "claim labels %v", pvc.Labels)
	must(t, len(pvc.OwnerReferences) == 0, "Retain/Retain claim has owners %+v", pvc.OwnerReferences)
	p := f.pod("ns", "web-0")
	must(t, len(p.Spec.Volumes) == 2 && p.Spec.Volumes[0].PersistentVolumeClaim != nil &&
		p.Spec.Volumes[0].PersistentVolumeClaim.ClaimName == "data-web-0" && p.Spec.Volumes[1].Name == "scratch", "volumes %+v", p.Spec.Volumes)
	ev := f.events()
	must(t, len(ev) == 2 && ev[0] == "Normal SuccessfulCreate create Claim data-web-0 Pod web-0 in StatefulSet web success", "events %q", ev)
}

func TestRetentionPolicyOwnerReferences(t *testing.T) {
	del := appsv1.DeletePersistentVolumeClaimRetentionPolicyType
	retain := appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	for _, tc := range []struct {
		whenDeleted, whenScaled appsv1.PersistentVolumeClaimRetentionPolicyType
		wantSetOwnsLive         bool
		wantPodOwnsCondemned    bool
		wantSetOwnsCondemned    bool
	}{
		{retain, retain, false, false, false},
		{del, retain, true, false, true},
		{retain, del, false, true, false},
		{del, del, true, true, false},
	} {
		t.Run(string(tc.whenDeleted)+"-"+string(tc.whenScaled), func(t *testing.T) {
			set := newSet(2)
			set.Spec.PodManagementPolicy = appsv1.ParallelPodManagement
			set.Spec.VolumeClaimTemplates = []corev1.PersistentVolumeClaim{claimTemplate("data")}
			set.Spec.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
				WhenDeleted: tc.whenDeleted, WhenScaled: tc.whenScaled}
			f := newFixture(t, set)
			f.sync(set)
			f.readyAll("ns")
			claim := func(name string) *corev1.PersistentVolumeClaim {
				c, err := f.client.CoreV1().PersistentVolumeClaims("ns").Get(f.ctx(), name, metav1.GetOptions{})
				must(t, err == nil, "claim %s: %v", name, err)
				return c
			}
			owns := func(c *corev1.PersistentVolumeClaim, uid string) bool {
				for _, r := range c.OwnerReferences {
					if string(r.UID) == uid {
						must(t, r.Controller != nil && *r.Controller, "non-controller ref %+v", r)
						return true
					}
				}
				return false
			}
			must(t, owns(claim("data-web-1"), "uid-web") == tc.wantSetOwnsLive, "set owns live claim: %+v", claim("data-web-1").OwnerReferences)
			// Give pods UIDs (the fake clientset does not) and scale to 1.
			p1 := f.pod("ns", "web-1")
			p1.UID = "uid-web-1"
			if _, err := f.client.CoreV1().Pods("ns").Update(f.ctx(), p1, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
			f.gracefulDeletes()
			s := f.set("ns", "web")
			s.Spec.Replicas = ptr.To[int32](1)
			s = f.updateSet(s)
			f.sync(s)
			c := claim("data-web-1")
			must(t, owns(c, "uid-web-1") == tc.wantPodOwnsCondemned, "pod owns condemned claim: %+v", c.OwnerReferences)
			must(t, owns(c, "uid-web") == tc.wantSetOwnsCondemned, "set owns condemned claim: %+v", c.OwnerReferences)
			must(t, f.pod("ns", "web-1").DeletionTimestamp != nil, "condemned pod not deleted")
		})
	}
}

func TestRollingUpdateWithPartition(t *testing.T) {
	set := newSet(3)
	f := newFixture(t, set)
	for i := 0; i < 3; i++ {
		f.sync(set)
		f.readyAll("ns")
	}
	rev1 := f.set("ns", "web").Status.UpdateRevision
	s := f.set("ns", "web")
	s.Spec.Template.Spec.Containers[0].Image = "nginx:2"
	s.Spec.UpdateStrategy.RollingUpdate.Partition = ptr.To[int32](2)
	s = f.updateSet(s)
	f.sync(s)
	must(t, f.podNames("ns") == "web-0,web-1", "web-2 not deleted for the update: %s", f.podNames("ns"))
	f.sync(s)
	f.readyAll("ns")
	f.sync(s)
	img := func(n string) string { return f.pod("ns", n).Spec.Containers[0].Image }
	must(t, img("web-2") == "nginx:2" && img("web-1") == "nginx:1" && img("web-0") == "nginx:1", "images %s %s %s", img("web-0"), img("web-1"), img("web-2"))
	st := f.set("ns", "web").Status
	must(t, st.CurrentRevision == rev1 && st.UpdateRevision != rev1 && st.UpdatedReplicas == 1 && st.CurrentReplicas == 2, "status %+v", st)

	s = f.set("ns", "web")
	s.Spec.UpdateStrategy.RollingUpdate.Partition = ptr.To[int32](0)
	s = f.updateSet(s)
	for i := 0; i < 6; i++ {
		f.sync(s)
		f.readyAll("ns")
	}
	must(t, img("web-1") == "nginx:2" && img("web-0") == "nginx:2", "images %s %s", img("web-0"), img("web-1"))
	st = f.set("ns", "web").Status
	must(t, st.CurrentRevision == st.UpdateRevision && st.CurrentReplicas == 3 && st.UpdatedReplicas == 3, "status after rollout %+v", st)
	rev2 := st.UpdateRevision

	// Reverting the template re-uses revision 1 with the next number.
	s = f.set("ns", "web")
	s.Spec.Template.Spec.Containers[0].Image = "nginx:1"
	s = f.updateSet(s)
	f.sync(s)
	st = f.set("ns", "web").Status
	must(t, st.UpdateRevision == rev1 && st.CurrentRevision == rev2, "rollback status %+v", st)
	r, err := f.client.AppsV1().ControllerRevisions("ns").Get(f.ctx(), rev1, metav1.GetOptions{})
	must(t, err == nil && r.Revision == 3, "revision 1 renumbered: %v %v", r, err)
	revs, _ := f.client.AppsV1().ControllerRevisions("ns").List(f.ctx(), metav1.ListOptions{})
	must(t, len(revs.Items) == 2, "%d revisions", len(revs.Items))
}

func TestRollingUpdateMaxUnavailable(t *testing.T) {
	set := newSet(4)
	set.Spec.PodManagementPolicy = appsv1.ParallelPodManagement
	set.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable = ptr.To(intstr.FromInt32(2))
	f := newFixture(t, set)
	f.sync(set)
	f.readyAll("ns")
	f.sync(set)
	s := f.set("ns", "web")
	s.Spec.Template.Spec.Containers[0].Image = "nginx:2"
	s = f.updateSet(s)
	f.sync(s)
	must(t, f.podNames("ns") == "web-0,web-1", "maxUnavailable 2 should delete web-3 and web-2: %s", f.podNames("ns"))
	// Recreated but not ready: two unavailable, nothing more is deleted.
	f.sync(s)
	f.sync(s)
	must(t, f.podNames("ns") == "web-0,web-1,web-2,web-3", "pods %s", f.podNames("ns"))
}

func TestOnDeleteUpdatesOnlyDeletedPods(t *testing.T) {
	set := newSet(2)
	set.Spec.UpdateStrategy = appsv1.StatefulSetUpdateStrategy{Type: appsv1.OnDeleteStatefulSetStrategyType}
	set.Spec.PodManagementPolicy = appsv1.ParallelPodManagement
	f := newFixture(t, set)
	f.sync(set)
	f.readyAll("ns")
	s := f.set("ns", "web")
	s.Spec.Template.Spec.Containers[0].Image = "nginx:2"
	s = f.updateSet(s)
	f.sync(s)
	must(t, f.podNames("ns") == "web-0,web-1", "OnDelete deleted a pod: %s", f.podNames("ns"))
	if err := f.client.CoreV1().Pods("ns").Delete(f.ctx(), "web-1", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	f.sync(s)
	must(t, f.pod("ns", "web-1").Spec.Containers[0].Image == "nginx:2" && f.pod("ns", "web-0").Spec.Containers[0].Image == "nginx:1", "OnDelete images")
}

func TestStatusWrittenOncePerSync(t *testing.T) {
	set := newSet(3)
	set.Spec.PodManagementPolicy = appsv1.ParallelPodManagement
	f := newFixture(t, set)
	f.sync(set)
	must(t, f.countActions("update", "statefulsets") == 1, "%d status writes", f.countActions("update", "statefulsets"))
	f.sync(set) // the pods got a phase: the status changes
	f.client.ClearActions()
	f.sync(set)
	must(t, f.countActions("update", "statefulsets") == 0, "unchanged status written again")
}

func TestRevisionHistoryLimit(t *testing.T) {
	set := newSet(1)
	set.Spec.RevisionHistoryLimit = ptr.To[int32](1)
	f := newFixture(t, set)
	f.sync(set)
	f.readyAll("ns")
	for i := 2; i <= 4; i++ {
		s := f.set("ns", "web")
		s.Spec.Template.Spec.Containers[0].Image = "nginx:" + string(rune('0'+i))
		s = f.updateSet(s)
		for j := 0; j < 4; j++ {
			f.sync(s)
			f.readyAll("ns")
		}
	}
	revs, _ := f.client.AppsV1().ControllerRevisions("ns").List(f.ctx(), metav1.ListOptions{})
	// The live revision plus one of history.
	must(t, len(revs.Items) == 2, "%d revisions kept", len(revs.Items))
}

func TestAdoptsOrphanPodsAndRevisions(t *testing.T) {
	set := newSet(1)
	orphan := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-0", Namespace: "ns", Labels: map[string]string{"app": "web"}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning}}
	stranger := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "other", Namespace: "ns", Labels: map[string]string{"app": "web"}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning}}
	f := newFixture(t, set, orphan, stranger)
	f.sync(set)
	must(t, metav1.GetControllerOf(f.pod("ns", "web-0")) != nil, "web-0 not adopted")
	must(t, metav1.GetControllerOf(f.pod("ns", "other")) == nil, "a pod not named web-<n> was adopted")
	must(t, f.podNames("ns") == "other,web-0", "pods %s", f.podNames("ns"))
}

func TestHashCollisionBumpsCollisionCount(t *testing.T) {
	set := newSet(1)
	want, err := newRevision(set, 1, ptr.To[int32](0))
	must(t, err == nil, "%v", err)
	squatter := want.DeepCopy()
	squatter.OwnerReferences = nil
	squatter.Labels = map[string]string{"other": "x"}
	squatter.Data = runtime.RawExtension{Raw: []byte(`{"spec":{"template":{"metadata":{"labels":{"x":"y"}}}}}`)}
	f := newFixture(t, set, squatter)
	f.sync(set)
	st := f.set("ns", "web").Status
	must(t, ptr.Deref(st.CollisionCount, 0) == 1 && st.UpdateRevision != squatter.Name, "status %+v", st)
}

func TestRevisionComparedByMeaning(t *testing.T) {
	set := newSet(1)
	rev, err := newRevision(set, 1, ptr.To[int32](0))
	must(t, err == nil, "%v", err)
	// The same template as an older serializer wrote it.
	var data map[string]any
	must(t, json.Unmarshal(rev.Data.Raw, &data) == nil, "decode")
	tmpl := data["spec"].(map[string]any)["template"].(map[string]any)
	tmpl["metadata"].(map[string]any)["creationTimestamp"] = nil
	tmpl["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)["resources"] = map[string]any{}
	rev.Data.Raw, _ = json.Marshal(data)
	rev.Name = "web-old"
	f := newFixture(t, set, rev)
	f.sync(set)
	revs, _ := f.client.AppsV1().ControllerRevisions("ns").List(f.ctx(), metav1.ListOptions{})
	must(t, len(revs.Items) == 1 && f.set("ns", "web").Status.UpdateRevision == "web-old", "a new revision for the same template: %d, %s",
		len(revs.Items), f.set("ns", "web").Status.UpdateRevision)
	must(t, f.pod("ns", "web-0").Labels[appsv1.StatefulSetRevisionLabel] == "web-old", "pod revision")
}

func TestRevisionDataIsTheTemplatePatch(t *testing.T) {
	set := newSet(1)
	f := newFixture(t, set)
	f.sync(set)
	revs, _ := f.client.AppsV1().ControllerRevisions("ns").List(f.ctx(), metav1.ListOptions{})
	must(t, len(revs.Items) == 1, "%d revisions", len(revs.Items))
	r := revs.Items[0]
	must(t, strings.HasPrefix(string(r.Data.Raw), `{"spec":{"template":{"$patch":"replace","metadata":{"labels":{"app":"web"}}`), "data %s", r.Data.Raw)
	must(t, r.Labels[history.HashLabel] != "" && r.Labels["app"] == "web" && r.Revision == 1, "labels %v", r.Labels)
	ref := metav1.GetControllerOf(&r)
	must(t, ref != nil && ref.UID == set.UID, "owner %+v", ref)
}

func TestDeletingSetOnlyUpdatesStatus(t *testing.T) {
	set := newSet(2)
	set.DeletionTimestamp = ptr.To(metav1.NewTime(t0))
	f := newFixture(t, set)
	f.sync(set)
	must(t, f.podNames("ns") == "", "pods created for a deleting set: %s", f.podNames("ns"))
}

func TestFailedCreateEvent(t *testing.T) {
	set := newSet(1)
	f := newFixture(t, set)
	f.client.PrependReactor("create", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(corev1.Resource("pods"), "web-0", errors.New("quota exceeded"))
	})
	f.refresh()
	if err := f.c.sync(f.ctx(), "ns/web"); err == nil {
		t.Fatal("sync succeeded though the pod could not be created")
	}
	ev := f.events()
	must(t, len(ev) == 1 && strings.HasPrefix(ev[0], "Warning FailedCreate create Pod web-0 in StatefulSet web failed error: ") &&
		strings.Contains(ev[0], "quota exceeded"), "events %q", ev)
}
