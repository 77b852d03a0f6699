package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
)

// startSimulatedServer starts a server whose simulated agent serves nodes
// sim-0000… and waits until they are all Ready.
func startSimulatedServer(tb testing.TB, nodes int) (*Server, kubernetes.Interface) {
	tb.Helper()
	dir := filepathTemp("ds")
	s, err := startServer(dir, "--runtime", "simulated", "--simulated-nodes", strconv.Itoa(nodes))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		s.Stop()
		os.RemoveAll(dir)
	})
	c := clientFor(tb, s)
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		l, err := c.CoreV1().Nodes().List(context.Background(), metav1.ListOptions{})
		readyNodes := 0
		if err == nil {
			for _, n := range l.Items {
				for _, cond := range n.Status.Conditions {
					if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
						readyNodes++
					}
				}
			}
		}
		if readyNodes == nodes {
			return s, c
		}
		time.Sleep(200 * time.Millisecond)
	}
	tb.Fatalf("%d simulated nodes not Ready within 90s", nodes)
	return nil, nil
}

// dsPods maps node names to the names of the live (not terminating) pods
// matching selector in ns, with their first container's image.
func dsPods(t *testing.T, s *Server, ns, selector string) map[string][]string {
	t.Helper()
	out := s.MustKubectl(t, "get", "pods", "-n", ns, "-l", selector, "-o",
		`jsonpath={range .items[*]}{.spec.nodeName}|{.metadata.name}|{.spec.containers[0].image}|{.metadata.deletionTimestamp}{"\n"}{end}`)
	m := map[string][]string{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Split(l, "|")
		if len(f) != 4 || f[3] != "" {
			continue
		}
		m[f[0]] = append(m[f[0]], f[1]+"|"+f[2])
	}
	return m
}

// waitOnePodPerNode waits until exactly the nodes in want run one live pod
// each (an empty node name means a pod not yet scheduled).
func waitOnePodPerNode(t *testing.T, s *Server, ns, selector string, want ...string) map[string][]string {
	t.Helper()
	sort.Strings(want)
	var got map[string][]string
	eventually(t, 60*time.Second, func() error {
		got = dsPods(t, s, ns, selector)
		var nodes []string
		for n, pods := range got {
			if len(pods) != 1 {
				return fmt.Errorf("node %q runs %v", n, pods)
			}
			nodes = append(nodes, n)
		}
		sort.Strings(nodes)
		if strings.Join(nodes, ",") != strings.Join(want, ",") {
			return fmt.Errorf("pods on %v, want %v", nodes, want)
		}
		return nil
	})
	return got
}

func simNodes(n int) []string {
	var out []string
	for i := 0; i < n; i++ {
		out = append(out, fmt.Sprintf("sim-%04d", i))
	}
	return out
}

func dsStatus(t *testing.T, s *Server, ns, name string) string {
	t.Helper()
	var ds appsv1.DaemonSet
	if err := json.Unmarshal([]byte(s.MustKubectl(t, "get", "ds", name, "-n", ns, "-o", "json")), &ds); err != nil {
		t.Fatal(err)
	}
	st := ds.Status
	return fmt.Sprint(st.DesiredNumberScheduled, " ", st.CurrentNumberScheduled, " ", st.NumberReady, " ", st.UpdatedNumberScheduled, " ",
		st.NumberAvailable, " ", st.NumberMisscheduled, " ", st.ObservedGeneration)
}

func waitDSStatus(t *testing.T, s *Server, ns, name, want string) {
	t.Helper()
	eventually(t, 60*time.Second, func() error {
		if got := dsStatus(t, s, ns, name); got != want {
			return fmt.Errorf("status (desired current ready updated available misscheduled observedGeneration) = %q, want %q", got, want)
		}
		return nil
	})
}

func simpleDS(name, extraSpec, podSpec string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: %[1]s
spec:
  selector:
    matchLabels:
      app: %[1]s
%[2]s  template:
    metadata:
      labels:
        app: %[1]s
    spec:
%[3]s      containers:
      - name: c
        image: busybox:1
        command: ["sleep", "inf"]
`, name, extraSpec, podSpec)
}

// newNodePodBound is how long TestDaemonSet lets a new node wait for its
// daemon pod to be Running.
const newNodePodBound = time.Second

// TestDaemonSet drives the DaemonSet controller on five simulated nodes with
// kubectl: the seeds' DaemonSet, a node added at run time, taints and
// tolerations, nodeSelector, OnDelete, a surging rolling update that never
// leaves a node without a ready pod, rollout history and undo.
func TestDaemonSet(t *testing.T) {
	s, c := startSimulatedServer(t, 5)
	nodes := simNodes(5)

	t.Run("seeds", func(t *testing.T) {
		out := s.MustKubectl(t, "create", "-n", "default", "-f", testdata("my-first-deamonset.yaml"))
		if !strings.Contains(out, "daemonset.apps/my-first-daemonset created") {
			t.Fatalf("create: %s", out)
		}
		waitOnePodPerNode(t, s, "default", "app=my-first-daemonset", nodes...)
		out = s.MustKubectl(t, "rollout", "status", "ds/my-first-daemonset", "--timeout=60s")
		if !strings.Contains(out, `daemon set "my-first-daemonset" successfully rolled out`) {
			t.Errorf("rollout status: %s", out)
		}
		out = s.MustKubectl(t, "get", "ds")
		for _, re := range []string{`NAME +DESIRED +CURRENT +READY +UP-TO-DATE +AVAILABLE +NODE SELECTOR +AGE`,
			`my-first-daemonset +5 +5 +5 +5 +5 +<none> +\d+s`} {
			if !regexp.MustCompile(re).MatchString(out) {
				t.Errorf("kubectl get ds lacks %q:\n%s", re, out)
			}
		}
		out = s.MustKubectl(t, "get", "pods", "-l", "app=my-first-daemonset", "-o",
			`jsonpath={range .items[*]}{.metadata.labels.pod-template-generation} {.metadata.labels.controller-revision-hash} {.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchFields[0].values[0]}={.spec.nodeName} {.spec.tolerations[*].key}{"\n"}{end}`)
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			f := strings.Fields(l)
			if len(f) < 3 || f[0] != "1" || f[1] == "" || !strings.HasPrefix(f[2], "sim-") || strings.Split(f[2], "=")[0] != strings.Split(f[2], "=")[1] ||
				!strings.Contains(l, "node.kubernetes.io/not-ready") || !strings.Contains(l, "node.kubernetes.io/unschedulable") {
				t.Errorf("pod labels/affinity/tolerations: %q", l)
			}
		}
		if ann := s.MustKubectl(t, "get", "ds", "my-first-daemonset", "-o", `jsonpath={.metadata.annotations.deprecated\.daemonset\.template\.generation}`); ann != "1" {
			t.Errorf("template generation annotation = %q", ann)
		}
	})

	t.Run("node added at run time", func(t *testing.T) {
		// Time from the node's creation to its daemon pod Running, as
		// the watch sees it (kubectl polling would add its own latency).
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		w, err := c.CoreV1().Pods("default").Watch(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=sim-extra"})
		if err != nil {
			t.Fatal(err)
		}
		running := make(chan time.Time, 1)
		go func() {
			for ev := range w.ResultChan() {
				if p, ok := ev.Object.(*corev1.Pod); ok && p.Status.Phase == corev1.PodRunning {
					running <- time.Now()
					return
				}
			}
		}()
		if _, err := c.CoreV1().Nodes().Create(context.Background(), &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "sim-extra",
			Annotations: map[string]string{"simulate.herd.dev/node": "true"}}}, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create node: %v", err)
		}
		start := time.Now()
		select {
		case at := <-running:
			took := at.Sub(start)
			t.Logf("the new node's daemon pod was Running %s after the node was created", took.Round(time.Millisecond))
			// Issue 12: within 1 s. The scheduler retries the pod, parked
			// until the node was Ready, as soon as the node changes
			// (measured 51-90 ms on a loaded 2-core machine; 1.03-1.05 s
			// when it waited out its 1 s backoff).
			if took > newNodePodBound {
				t.Errorf("the new node's daemon pod took %s to run, want at most %s", took.Round(time.Millisecond), newNodePodBound)
			}
		case <-time.After(60 * time.Second):
			t.Fatal("no daemon pod Running on the new node within 60s")
		}
		waitOnePodPerNode(t, s, "default", "app=my-first-daemonset", append(nodes, "sim-extra")...)
		waitDSStatus(t, s, "default", "my-first-daemonset", "6 6 6 6 6 0 1")
	})
	nodes = append(nodes, "sim-extra")

	t.Run("taints", func(t *testing.T) {
		ns := s.Namespace(t)
		before := dsPods(t, s, "default", "app=my-first-daemonset")["sim-0001"]
		s.MustKubectl(t, "taint", "nodes", "sim-0001", "dedicated=x:NoSchedule")
		// A NoSchedule taint added later keeps the running daemon pod: it
		// is counted as misscheduled.
		waitDSStatus(t, s, "default", "my-first-daemonset", "5 5 5 5 5 1 1")
		if after := dsPods(t, s, "default", "app=my-first-daemonset")["sim-0001"]; strings.Join(after, ",") != strings.Join(before, ",") {
			t.Errorf("pod on the NoSchedule-tainted node changed: %v → %v", before, after)
		}
		// A new DaemonSet without the toleration skips the node…
		if out, err := s.KubectlIn(t, simpleDS("late", "", ""), "apply", "-n", ns, "-f", "-"); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		others := []string{}
		for _, n := range nodes {
			if n != "sim-0001" {
				others = append(others, n)
			}
		}
		waitOnePodPerNode(t, s, ns, "app=late", others...)
		waitDSStatus(t, s, ns, "late", "5 5 5 5 5 0 1")
		// …and gets a pod there once it tolerates the taint.
		s.MustKubectl(t, "patch", "ds", "late", "-n", ns, "-p", `{"spec":{"template":{"spec":{"tolerations":[{"key":"dedicated","operator":"Exists"}]}}}}`)
		waitOnePodPerNode(t, s, ns, "app=late", nodes...)
		s.MustKubectl(t, "rollout", "status", "ds/late", "-n", ns, "--timeout=60s")

		// NoExecute evicts daemon pods that do not tolerate it.
		s.MustKubectl(t, "taint", "nodes", "sim-0002", "evict=x:NoExecute")
		var rest []string
		for _, n := range nodes {
			if n != "sim-0001" && n != "sim-0002" {
				rest = append(rest, n)
			}
		}
		waitOnePodPerNode(t, s, "default", "app=my-first-daemonset", append(rest, "sim-0001")...)
		waitOnePodPerNode(t, s, ns, "app=late", append(rest, "sim-0001")...)

		s.MustKubectl(t, "taint", "nodes", "sim-0001", "dedicated-")
		s.MustKubectl(t, "taint", "nodes", "sim-0002", "evict-")
		waitOnePodPerNode(t, s, "default", "app=my-first-daemonset", nodes...)
		waitDSStatus(t, s, "default", "my-first-daemonset", "6 6 6 6 6 0 1")
		s.MustKubectl(t, "delete", "ds", "late", "-n", ns)
	})

	t.Run("nodeSelector", func(t *testing.T) {
		ns := s.Namespace(t)
		s.MustKubectl(t, "label", "nodes", "sim-0003", "sim-0004", "role=edge")
		if out, err := s.KubectlIn(t, simpleDS("edge", "", "      nodeSelector:\n        role: edge\n"), "apply", "-n", ns, "-f", "-"); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		waitOnePodPerNode(t, s, ns, "app=edge", "sim-0003", "sim-0004")
		out := s.MustKubectl(t, "get", "ds", "edge", "-n", ns)
		if !regexp.MustCompile(`edge +2 +2 +2 +2 +2 +role=edge +`).MatchString(out) {
			t.Errorf("kubectl get ds:\n%s", out)
		}
		s.MustKubectl(t, "label", "nodes", "sim-0000", "role=edge")
		waitOnePodPerNode(t, s, ns, "app=edge", "sim-0000", "sim-0003", "sim-0004")
		s.MustKubectl(t, "label", "nodes", "sim-0003", "role-")
		waitOnePodPerNode(t, s, ns, "app=edge", "sim-0000", "sim-0004")
		s.MustKubectl(t, "label", "nodes", "sim-0000", "sim-0004", "role-")
		s.MustKubectl(t, "delete", "ds", "edge", "-n", ns)
	})

	t.Run("OnDelete", func(t *testing.T) {
		ns := s.Namespace(t)
		if out, err := s.KubectlIn(t, simpleDS("od", "  updateStrategy:\n    type: OnDelete\n", ""), "apply", "-n", ns, "-f", "-"); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		before := waitOnePodPerNode(t, s, ns, "app=od", nodes...)
		s.MustKubectl(t, "set", "image", "ds/od", "-n", ns, "c=busybox:2")
		// The controller has seen generation 2 and made the revision…
		waitDSStatus(t, s, ns, "od", "6 6 6 0 6 0 2")
		// …and replaced nothing.
		if after := dsPods(t, s, ns, "app=od"); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Fatalf("OnDelete replaced pods on its own: %v → %v", before, after)
		}
		victim := strings.Split(before["sim-0004"][0], "|")[0]
		s.MustKubectl(t, "delete", "pod", victim, "-n", ns)
		after := waitOnePodPerNode(t, s, ns, "app=od", nodes...)
		for n, pods := range after {
			img := strings.Split(pods[0], "|")[1]
			switch {
			case n == "sim-0004" && img != "busybox:2":
				t.Errorf("replacement on %s runs %s, want busybox:2", n, img)
			case n != "sim-0004" && pods[0] != before[n][0]:
				t.Errorf("pod on %s changed: %v → %v", n, before[n], pods)
			}
		}
		waitDSStatus(t, s, ns, "od", "6 6 6 1 6 0 2")
	})

	t.Run("surge-history-undo", func(t *testing.T) {
		ns := s.Namespace(t)
		strategy := "  updateStrategy:\n    rollingUpdate:\n      maxSurge: 1\n      maxUnavailable: 0\n"
		// New pods become ready a second after they start.
		podSpec := ""
		manifest := strings.Replace(simpleDS("surge", strategy, podSpec), "    metadata:\n      labels:",
			"    metadata:\n      annotations:\n        simulate.herd.dev/readiness-delay: 1s\n      labels:", 1)
		manifest += "        readinessProbe:\n          exec:\n            command: [\"true\"]\n          periodSeconds: 1\n"
		if out, err := s.KubectlIn(t, manifest, "apply", "-n", ns, "-f", "-"); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		waitOnePodPerNode(t, s, ns, "app=surge", nodes...)
		s.MustKubectl(t, "rollout", "status", "ds/surge", "-n", ns, "--timeout=60s")

		// Watch every pod change during the rollout: each node keeps a
		// ready pod, and at most one node runs two live pods.
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		list, err := c.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=surge"})
		if err != nil {
			t.Fatal(err)
		}
		w, err := c.CoreV1().Pods(ns).Watch(ctx, metav1.ListOptions{LabelSelector: "app=surge", ResourceVersion: list.ResourceVersion})
		if err != nil {
			t.Fatal(err)
		}
		pods := map[string]*corev1.Pod{}
		for i := range list.Items {
			pods[list.Items[i].Name] = &list.Items[i]
		}
		var mu sync.Mutex
		var violations []string
		events := 0
		check := func() {
			ready, live := map[string]int{}, map[string]int{}
			for _, p := range pods {
				if p.DeletionTimestamp != nil || p.Spec.NodeName == "" {
					continue
				}
				live[p.Spec.NodeName]++
				for _, cond := range p.Status.Conditions {
					if cond.Type == corev1.PodReady && cond.Status == corev1.ConditionTrue {
						ready[p.Spec.NodeName]++
					}
				}
			}
			surged := 0
			for _, n := range nodes {
				if ready[n] == 0 {
					violations = append(violations, fmt.Sprintf("no ready pod on %s", n))
				}
				if live[n] > 1 {
					surged++
				}
			}
			if surged > 1 {
				violations = append(violations, fmt.Sprintf("%d nodes surged at once", surged))
			}
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			for ev := range w.ResultChan() {
				p, ok := ev.Object.(*corev1.Pod)
				if !ok {
					continue
				}
				mu.Lock()
				events++
				if ev.Type == watch.Deleted {
					delete(pods, p.Name)
				} else {
					pods[p.Name] = p
				}
				check()
				mu.Unlock()
			}
		}()
		s.MustKubectl(t, "set", "image", "ds/surge", "-n", ns, "c=busybox:2")
		out := s.MustKubectl(t, "rollout", "status", "ds/surge", "-n", ns, "--timeout=120s")
		if !strings.Contains(out, `daemon set "surge" successfully rolled out`) {
			t.Errorf("rollout status: %s", out)
		}
		after := waitOnePodPerNode(t, s, ns, "app=surge", nodes...)
		cancel()
		w.Stop()
		<-done
		mu.Lock()
		if events < 3*len(nodes) {
			t.Errorf("only %d pod events seen during the rollout", events)
		}
		if len(violations) > 0 {
			t.Errorf("%d violations, first: %v", len(violations), violations[:min(5, len(violations))])
		}
		mu.Unlock()
		for n, p := range after {
			if !strings.HasSuffix(p[0], "|busybox:2") {
				t.Errorf("node %s runs %v after the rollout", n, p)
			}
		}

		out = s.MustKubectl(t, "rollout", "history", "ds/surge", "-n", ns)
		if !regexp.MustCompile(`(?m)^1 +<none>`).MatchString(out) || !regexp.MustCompile(`(?m)^2 +<none>`).MatchString(out) {
			t.Errorf("rollout history:\n%s", out)
		}
		if out := s.MustKubectl(t, "rollout", "history", "ds/surge", "-n", ns, "--revision=1"); !strings.Contains(out, "busybox:1") {
			t.Errorf("rollout history --revision=1:\n%s", out)
		}
		out = s.MustKubectl(t, "rollout", "undo", "ds/surge", "-n", ns)
		if !strings.Contains(out, "daemonset.apps/surge rolled back") {
			t.Errorf("rollout undo: %s", out)
		}
		s.MustKubectl(t, "rollout", "status", "ds/surge", "-n", ns, "--timeout=120s")
		for n, p := range waitOnePodPerNode(t, s, ns, "app=surge", nodes...) {
			if !strings.HasSuffix(p[0], "|busybox:1") {
				t.Errorf("node %s runs %v after the undo", n, p)
			}
		}
		out = s.MustKubectl(t, "rollout", "history", "ds/surge", "-n", ns)
		if regexp.MustCompile(`(?m)^1 +<none>`).MatchString(out) || !regexp.MustCompile(`(?m)^3 +<none>`).MatchString(out) {
			t.Errorf("rollout history after undo (revision 1 becomes 3):\n%s", out)
		}
		if out := s.MustKubectl(t, "get", "controllerrevisions", "-n", ns, "-o", "name"); len(strings.Fields(out)) != 2 {
			t.Errorf("controllerrevisions: %s", out)
		}
	})

	t.Run("deletion", func(t *testing.T) {
		ns := s.Namespace(t)
		if out, err := s.KubectlIn(t, simpleDS("gone", "", ""), "apply", "-n", ns, "-f", "-"); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		before := waitOnePodPerNode(t, s, ns, "app=gone", nodes...)
		// Orphaned pods are adopted by a new DaemonSet with the same selector.
		s.MustKubectl(t, "delete", "ds", "gone", "-n", ns, "--cascade=orphan")
		if out, err := s.KubectlIn(t, simpleDS("gone", "", ""), "apply", "-n", ns, "-f", "-"); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		uid := s.MustKubectl(t, "get", "ds", "gone", "-n", ns, "-o", "jsonpath={.metadata.uid}")
		eventually(t, 60*time.Second, func() error {
			out := s.MustKubectl(t, "get", "pods", "-n", ns, "-l", "app=gone", "-o", `jsonpath={range .items[*]}{.metadata.ownerReferences[0].uid} {end}`)
			for _, u := range strings.Fields(out) {
				if u != uid {
					return fmt.Errorf("owners %s, want %s", out, uid)
				}
			}
			return nil
		})
		if after := waitOnePodPerNode(t, s, ns, "app=gone", nodes...); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Errorf("adoption replaced pods: %v → %v", before, after)
		}
		// Background deletion removes the pods and the revisions.
		s.MustKubectl(t, "delete", "ds", "gone", "-n", ns)
		eventually(t, 60*time.Second, func() error {
			if out := s.MustKubectl(t, "get", "pods,controllerrevisions", "-n", ns, "-o", "name"); out != "" {
				return fmt.Errorf("left: %s", out)
			}
			return nil
		})
	})

	t.Run("validation", func(t *testing.T) {
		ns := s.Namespace(t)
		for _, tc := range []struct {
			name, manifest, want string
		}{
			{"selector", strings.Replace(simpleDS("bad1", "", ""), "      labels:\n        app: bad1", "      labels:\n        app: other", 1),
				"spec.template.metadata.labels: Invalid value"},
			{"restartPolicy", simpleDS("bad2", "", "      restartPolicy: Never\n"),
				`spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"`},
			{"both zero", simpleDS("bad3", "  updateStrategy:\n    rollingUpdate:\n      maxUnavailable: 0\n      maxSurge: 0\n", ""),
				"spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0"},
			{"both set", simpleDS("bad4", "  updateStrategy:\n    rollingUpdate:\n      maxUnavailable: 1\n      maxSurge: 1\n", ""),
				"may not be set when maxUnavailable is non-zero"},
		} {
			out, err := s.KubectlIn(t, tc.manifest, "create", "-n", ns, "-f", "-")
			if err == nil || !strings.Contains(out, tc.want) || !strings.Contains(out, "is invalid") {
				t.Errorf("%s: err %v, output:\n%s\nwant %q", tc.name, err, out, tc.want)
			}
		}
		if out := s.MustKubectl(t, "get", "ds", "-n", ns, "-o", "name"); out != "" {
			t.Errorf("invalid DaemonSets were stored: %s", out)
		}
		if out, err := s.KubectlIn(t, simpleDS("good", "", ""), "create", "-n", ns, "-f", "-"); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		out, err := s.Kubectl(t, "patch", "ds", "good", "-n", ns, "-p", `{"spec":{"selector":{"matchLabels":{"app":"good","x":"y"}},"template":{"metadata":{"labels":{"x":"y"}}}}}`)
		if err == nil || !strings.Contains(out, "spec.selector: Invalid value") || !strings.Contains(out, "field is immutable") {
			t.Errorf("selector change: err %v\n%s", err, out)
		}
	})

	// A deleted node's pod is removed by the pod garbage collector (after
	// its 40 s quarantine), and the DaemonSet no longer counts the node.
	t.Run("node deleted", func(t *testing.T) {
		s.MustKubectl(t, "delete", "node", "sim-extra")
		waitDSStatus(t, s, "default", "my-first-daemonset", "5 5 5 5 5 0 1")
		eventually(t, 150*time.Second, func() error {
			if pods := dsPods(t, s, "default", "app=my-first-daemonset"); len(pods["sim-extra"]) != 0 || len(pods) != 5 {
				return fmt.Errorf("pods by node: %v", pods)
			}
			return nil
		})
	})
}

// TestDaemonSetProcessRuntime runs a DaemonSet on the shared server's one
// process-runtime node: its pod really runs there, and a template change
// rolls it.
func TestDaemonSetProcessRuntime(t *testing.T) {
	s := shared
	ns := s.Namespace(t)
	manifest := strings.Replace(simpleDS("proc", "", ""), `command: ["sleep", "inf"]`, `command: ["sh", "-c", "echo started; exec sleep 3600"]`, 1)
	if out, err := s.KubectlIn(t, manifest, "apply", "-n", ns, "-f", "-"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	out := s.MustKubectl(t, "rollout", "status", "ds/proc", "-n", ns, "--timeout=90s")
	if !strings.Contains(out, "successfully rolled out") {
		t.Fatalf("rollout status: %s", out)
	}
	out = s.MustKubectl(t, "get", "ds", "proc", "-n", ns)
	if !regexp.MustCompile(`proc +1 +1 +1 +1 +1 +<none> +`).MatchString(out) {
		t.Errorf("kubectl get ds:\n%s", out)
	}
	eventually(t, 30*time.Second, func() error {
		if logs, _ := s.Kubectl(t, "logs", "-n", ns, "ds/proc"); !strings.Contains(logs, "started") {
			return fmt.Errorf("logs: %q", logs)
		}
		return nil
	})
	s.MustKubectl(t, "set", "env", "ds/proc", "-n", ns, "V=2")
	s.MustKubectl(t, "rollout", "status", "ds/proc", "-n", ns, "--timeout=90s")
	if env := s.MustKubectl(t, "get", "pods", "-n", ns, "-l", "app=proc", "-o", "jsonpath={.items[*].spec.containers[0].env[0].value}"); env != "2" {
		t.Errorf("pods after the rollout carry env %q, want one pod with V=2", env)
	}
	s.MustKubectl(t, "delete", "ds", "proc", "-n", ns)
}
