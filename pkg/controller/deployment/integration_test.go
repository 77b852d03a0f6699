package deployment

import (
	"context"
	"fmt"
	"regexp"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/clock"

	"github.com/herd-project/herd/pkg/controller/replicaset"
)

// TestControllersTogether runs the Deployment and ReplicaSet controllers
// with informers over a fake clientset: the test plays the kubelet (marks
// pods ready) and checks a rollout end to end through the event handlers.
func TestControllersTogether(t *testing.T) {
	client := fake.NewClientset()
	var n atomic.Int64
	client.PrependReactor("create", "*", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if o, ok := a.(k8stesting.CreateAction).GetObject().(metav1.Object); ok {
			if o.GetName() == "" && o.GetGenerateName() != "" {
				o.SetName(fmt.Sprintf("%s%05d", o.GetGenerateName(), n.Add(1)))
			}
			o.SetUID(types.UID(fmt.Sprintf("uid-%d", n.Add(1))))
			o.SetCreationTimestamp(metav1.NewTime(time.Now().Add(time.Duration(n.Load()) * time.Millisecond)))
		}
		return false, nil, nil
	})
	// The fake tracker does not bump resourceVersion; informers' update
	// handlers rely on it.
	// Like the API server, it also rejects stale writes and lets /status
	// change only status and metadata.
	tracker := client.Tracker()
	client.PrependReactor("update", "*", func(a k8stesting.Action) (bool, runtime.Object, error) {
		ua := a.(k8stesting.UpdateAction)
		o, ok := ua.GetObject().(metav1.Object)
		if !ok {
			return false, nil, nil
		}
		stored, err := tracker.Get(a.GetResource(), a.GetNamespace(), o.GetName())
		if err != nil {
			return true, nil, err
		}
		sm := stored.(metav1.Object)
		if o.GetResourceVersion() != "" && o.GetResourceVersion() != sm.GetResourceVersion() {
			return true, nil, apierrors.NewConflict(a.GetResource().GroupResource(), o.GetName(), fmt.Errorf("stale"))
		}
		obj := ua.GetObject()
		if a.GetSubresource() == "status" {
			if nd, ok := obj.(*appsv1.Deployment); ok {
				merged := stored.(*appsv1.Deployment).DeepCopy()
				merged.Status = nd.Status
				merged.ObjectMeta = nd.ObjectMeta
				obj = merged
			}
		}
		obj.(metav1.Object).SetResourceVersion(fmt.Sprint(n.Add(1)))
		if err := tracker.Update(a.GetResource(), obj, a.GetNamespace()); err != nil {
			return true, nil, err
		}
		return true, obj, nil
	})
	factory := informers.NewSharedInformerFactory(client, 0)
	rec := record.NewFakeRecorder(10000)
	dc := New(client, factory, rec, clock.RealClock{})
	rc, err := replicaset.New(client, factory, rec, clock.RealClock{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	factory.Start(ctx.Done())
	go dc.Run(ctx, 2)
	go rc.Run(ctx, 2)

	d := newDeployment("web", 3, ios("1"), ios("0"))
	if _, err := client.AppsV1().Deployments("default").Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The kubelet: every pending pod becomes running and ready.
	readyAll := func() {
		pods, _ := client.CoreV1().Pods("default").List(ctx, metav1.ListOptions{})
		for i := range pods.Items {
			p := &pods.Items[i]
			if p.Status.Phase == corev1.PodRunning {
				continue
			}
			p.Status.Phase = corev1.PodRunning
			p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.Now()}}
			_, _ = client.CoreV1().Pods("default").UpdateStatus(ctx, p, metav1.UpdateOptions{})
		}
	}
	// The garbage collector, for pods of ReplicaSets scaled down: the fake
	// clientset deletes immediately, so nothing else is needed.
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		err := wait.PollUntilContextTimeout(ctx, 20*time.Millisecond, 20*time.Second, true, func(context.Context) (bool, error) {
			readyAll()
			return cond(), nil
		})
		if err != nil {
			got, _ := client.AppsV1().Deployments("default").Get(ctx, "web", metav1.GetOptions{})
			rss, _ := client.AppsV1().ReplicaSets("default").List(ctx, metav1.ListOptions{})
			for _, rs := range rss.Items {
				t.Logf("rs %s spec %d status %+v", rs.Name, *rs.Spec.Replicas, rs.Status)
			}
			pods, _ := client.CoreV1().Pods("default").List(ctx, metav1.ListOptions{})
			for _, p := range pods.Items {
				t.Logf("pod %s %s %v", p.Name, p.Status.Phase, p.OwnerReferences)
			}
			t.Fatalf("timed out waiting for %s; status %+v", what, got.Status)
		}
	}
	complete := func(rev string) func() bool {
		return func() bool {
			got, err := client.AppsV1().Deployments("default").Get(ctx, "web", metav1.GetOptions{})
			if err != nil {
				return false
			}
			c := findCond(got, appsv1.DeploymentProgressing)
			pods, _ := client.CoreV1().Pods("default").List(ctx, metav1.ListOptions{})
			return c != nil && c.Reason == "NewReplicaSetAvailable" && got.Status.AvailableReplicas == 3 &&
				got.Status.UpdatedReplicas == 3 && got.Status.Replicas == 3 && got.Annotations["deployment.kubernetes.io/revision"] == rev && len(pods.Items) == 3
		}
	}
	waitFor("first rollout", complete("1"))
	pods, _ := client.CoreV1().Pods("default").List(ctx, metav1.ListOptions{})
	nameRE := regexp.MustCompile(`^web-[bcdfghjklmnpqrstvwxz2456789]+-\d{5}$`)
	for _, p := range pods.Items {
		if !nameRE.MatchString(p.Name) || p.Labels[appsv1.DefaultDeploymentUniqueLabelKey] == "" {
			t.Fatalf("pod %s labels %v", p.Name, p.Labels)
		}
	}
	// A deleted pod is replaced.
	_ = client.CoreV1().Pods("default").Delete(ctx, pods.Items[0].Name, metav1.DeleteOptions{})
	waitFor("replacement", func() bool {
		pods, _ := client.CoreV1().Pods("default").List(ctx, metav1.ListOptions{})
		return len(pods.Items) == 3
	})
	// A rolling update.
	cur, _ := client.AppsV1().Deployments("default").Get(ctx, "web", metav1.GetOptions{})
	cur.Spec.Template.Spec.Containers[0].Image = "nginx:1.27"
	cur.Generation++
	if _, err := client.AppsV1().Deployments("default").Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor("rolling update", complete("2"))
}
