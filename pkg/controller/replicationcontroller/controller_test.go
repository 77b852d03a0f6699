package replicationcontroller

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
)

func newRC() *corev1.ReplicationController {
	return &corev1.ReplicationController{
		ObjectMeta: metav1.ObjectMeta{Name: "legacy", Namespace: "ns", UID: "rc-uid", Generation: 3},
		Spec: corev1.ReplicationControllerSpec{
			Replicas: ptr.To[int32](2), Selector: map[string]string{"app": "legacy"}, MinReadySeconds: 4,
			Template: &corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "legacy"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
			},
		},
		Status: corev1.ReplicationControllerStatus{Replicas: 1, ReadyReplicas: 1, ObservedGeneration: 2,
			Conditions: []corev1.ReplicationControllerCondition{{Type: corev1.ReplicationControllerReplicaFailure, Status: corev1.ConditionTrue, Reason: "FailedCreate"}}},
	}
}

func TestConversionRoundTrip(t *testing.T) {
	rc := newRC()
	rs := toReplicaSet(rc)
	if rs.Spec.Selector.MatchLabels["app"] != "legacy" || rs.UID != rc.UID || *rs.Spec.Replicas != 2 || len(rs.Status.Conditions) != 1 {
		t.Fatalf("as ReplicaSet: %+v", rs)
	}
	if back := toReplicationController(rs); !apiequality.Semantic.DeepEqual(back, rc) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", back, rc)
	}
}

// The shared ReplicaSet logic creates the RC's pods, owned by the
// ReplicationController, and writes its status through the RC API;
// events name the ReplicationController.
func TestControllerCreatesPodsAndStatus(t *testing.T) {
	rc := newRC()
	rc.Status = corev1.ReplicationControllerStatus{}
	client := fake.NewClientset(rc)
	var n atomic.Int32
	client.PrependReactor("create", "pods", func(a clienttesting.Action) (bool, runtime.Object, error) {
		p := a.(clienttesting.CreateAction).GetObject().(*corev1.Pod)
		i := n.Add(1)
		p.Name = fmt.Sprintf("%s%d", p.GenerateName, i)
		p.UID = types.UID(fmt.Sprintf("pod-%d", i))
		return false, nil, nil
	})
	factory := informers.NewSharedInformerFactory(client, 0)
	rec := record.NewFakeRecorder(100)
	c, err := New(client, factory, rec, clock.RealClock{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	factory.Start(ctx.Done())
	go c.Run(ctx, 1)

	deadline := time.Now().Add(10 * time.Second)
	for {
		pods, _ := client.CoreV1().Pods("ns").List(ctx, metav1.ListOptions{})
		got, _ := client.CoreV1().ReplicationControllers("ns").Get(ctx, "legacy", metav1.GetOptions{})
		if len(pods.Items) == 2 && got.Status.Replicas == 2 && got.Status.ObservedGeneration == 3 {
			for _, p := range pods.Items {
				ref := metav1.GetControllerOf(&p)
				if ref == nil || ref.APIVersion != "v1" || ref.Kind != "ReplicationController" || ref.UID != "rc-uid" || p.Labels["app"] != "legacy" {
					t.Errorf("pod %s owner %+v labels %v", p.Name, ref, p.Labels)
				}
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pods %d, rc status %+v", len(pods.Items), got.Status)
		}
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case ev := <-rec.Events:
		if ev != "Normal SuccessfulCreate Created pod: legacy-1" && ev != "Normal SuccessfulCreate Created pod: legacy-2" {
			t.Errorf("event %q", ev)
		}
	default:
		t.Error("no event")
	}
}
