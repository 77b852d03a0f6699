package e2e

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestReadyVersionAndAPIResources(t *testing.T) {
	s := shared
	if out := s.MustKubectl(t, "get", "--raw", "/readyz"); strings.TrimSpace(out) != "ok" {
		t.Fatalf("/readyz = %q", out)
	}
	for _, p := range []string{"/healthz", "/livez"} {
		if out := s.MustKubectl(t, "get", "--raw", p); strings.TrimSpace(out) != "ok" {
			t.Fatalf("%s = %q", p, out)
		}
	}
	out, _ := s.Kubectl(t, "version")
	if !regexp.MustCompile(`Server Version: v1\.36\.\d+`).MatchString(out) {
		t.Fatalf("kubectl version does not show the server:\n%s", out)
	}
	out = s.MustKubectl(t, "api-resources", "--no-headers")
	for _, want := range []string{
		"pods +po +v1 +true +Pod", "namespaces +ns +v1 +false +Namespace", "nodes +no +v1 +false +Node",
		"events +ev +v1 +true +Event", "configmaps +cm +v1 +true +ConfigMap", "secrets +v1 +true +Secret",
		"serviceaccounts +sa +v1 +true +ServiceAccount", "services +svc +v1 +true +Service",
		"endpoints +ep +v1 +true +Endpoints", "persistentvolumeclaims +pvc +v1 +true +PersistentVolumeClaim",
		"persistentvolumes +pv +v1 +false +PersistentVolume",
		"deployments +deploy +apps/v1 +true +Deployment", "replicasets +rs +apps/v1 +true +ReplicaSet",
		"statefulsets +sts +apps/v1 +true +StatefulSet", "daemonsets +ds +apps/v1 +true +DaemonSet",
		"controllerrevisions +apps/v1 +true +ControllerRevision",
		"jobs +batch/v1 +true +Job", "cronjobs +cj +batch/v1 +true +CronJob",
		"leases +coordination.k8s.io/v1 +true +Lease", "events +ev +events.k8s.io/v1 +true +Event",
		"endpointslices +discovery.k8s.io/v1 +true +EndpointSlice",
	} {
		if !regexp.MustCompile(`(?m)^` + want + `$`).MatchString(out) {
			t.Errorf("api-resources lacks %q:\n%s", want, out)
		}
	}
	// Subresources are served under Kubernetes' paths.
	out = s.MustKubectl(t, "get", "--raw", "/apis/apps/v1")
	for _, sub := range []string{"deployments/scale", "deployments/status", "replicasets/scale", "statefulsets/scale", "daemonsets/status"} {
		if !strings.Contains(out, `"name":"`+sub+`"`) {
			t.Errorf("/apis/apps/v1 lacks %s", sub)
		}
	}
	out = s.MustKubectl(t, "get", "--raw", "/api/v1")
	for _, sub := range []string{"pods/status", "pods/binding", "namespaces/finalize", "namespaces/status", "nodes/status", "services/status"} {
		if !strings.Contains(out, `"name":"`+sub+`"`) {
			t.Errorf("/api/v1 lacks %s", sub)
		}
	}
}

func TestSystemNamespacesAndDefaultServiceAccount(t *testing.T) {
	s := shared
	out := s.MustKubectl(t, "get", "namespaces", "-o", "name")
	for _, ns := range []string{"default", "kube-system", "kube-public", "kube-node-lease"} {
		if !strings.Contains(out, "namespace/"+ns+"\n") {
			t.Errorf("namespace %s missing:\n%s", ns, out)
		}
	}
	ns := s.Namespace(t)
	eventually(t, 10*time.Second, func() error {
		_, err := s.Kubectl(t, "get", "serviceaccount", "default", "-n", ns)
		return err
	})
	// Deleting it brings it back.
	s.MustKubectl(t, "delete", "serviceaccount", "default", "-n", ns)
	eventually(t, 10*time.Second, func() error {
		_, err := s.Kubectl(t, "get", "serviceaccount", "default", "-n", ns)
		return err
	})
	// Immortal namespaces cannot be deleted.
	out, err := s.Kubectl(t, "delete", "namespace", "kube-system", "--wait=false")
	if err == nil || !strings.Contains(out, "forbidden") {
		t.Fatalf("deleting kube-system: err=%v\n%s", err, out)
	}
	// Objects cannot be created in a namespace that does not exist.
	out, err = s.Kubectl(t, "create", "configmap", "x", "-n", "no-such-namespace")
	if err == nil || !strings.Contains(out, `namespaces "no-such-namespace" not found`) {
		t.Fatalf("create in missing namespace: err=%v\n%s", err, out)
	}
}

func TestApplySeedManifests(t *testing.T) {
	s := shared
	ns := s.Namespace(t)
	files := []string{"pi-job.yaml", "nginx-deploy.yaml", "web-statefulset.yaml", "fluentd-daemonset.yaml", "test-cronjob.yaml"}
	wantCreated := []string{"job.batch/pi created", "deployment.apps/nginx created", "service/nginx-headless created",
		"statefulset.apps/web created", "daemonset.apps/fluentd-elasticsearch created", "cronjob.batch/test-cronjob created"}
	var all string
	for _, f := range files {
		all += s.MustKubectl(t, "apply", "-n", ns, "-f", testdata(f))
	}
	for _, w := range wantCreated {
		if !strings.Contains(all, w) {
			t.Errorf("apply output lacks %q:\n%s", w, all)
		}
	}
	all = ""
	for _, f := range files {
		all += s.MustKubectl(t, "apply", "-n", ns, "-f", testdata(f))
	}
	for _, w := range wantCreated {
		w = strings.Replace(w, "created", "unchanged", 1)
		if w == "statefulset.apps/web unchanged" {
			// As on a real cluster: volumeClaimTemplates is an atomic list
			// whose stored form carries defaults, so kubectl re-sends it
			// (kubernetes#66450); the patch changes nothing.
			w = "statefulset.apps/web configured"
		}
		if !strings.Contains(all, w) {
			t.Errorf("second apply output lacks %q:\n%s", w, all)
		}
	}
	if g := s.MustKubectl(t, "get", "sts", "web", "-n", ns, "-o", "jsonpath={.metadata.generation}"); g != "1" {
		t.Errorf("statefulset generation after re-apply = %s, want 1", g)
	}

	var job struct {
		Metadata struct {
			UID        string            `json:"uid"`
			Generation int64             `json:"generation"`
			Labels     map[string]string `json:"labels"`
		} `json:"metadata"`
		Spec struct {
			BackoffLimit   *int32 `json:"backoffLimit"`
			Completions    *int32 `json:"completions"`
			Parallelism    *int32 `json:"parallelism"`
			CompletionMode string `json:"completionMode"`
			Suspend        *bool  `json:"suspend"`
			ManualSelector *bool  `json:"manualSelector"`
			PodReplacement string `json:"podReplacementPolicy"`
			Selector       struct {
				MatchLabels map[string]string `json:"matchLabels"`
			} `json:"selector"`
			Template struct {
				Metadata struct {
					Labels map[string]string `json:"labels"`
				} `json:"metadata"`
				Spec struct {
					RestartPolicy                 string `json:"restartPolicy"`
					TerminationGracePeriodSeconds *int64 `json:"terminationGracePeriodSeconds"`
					DNSPolicy                     string `json:"dnsPolicy"`
					SchedulerName                 string `json:"schedulerName"`
					Containers                    []struct {
						ImagePullPolicy          string `json:"imagePullPolicy"`
						TerminationMessagePath   string `json:"terminationMessagePath"`
						TerminationMessagePolicy string `json:"terminationMessagePolicy"`
					} `json:"containers"`
				} `json:"spec"`
			} `json:"template"`
		} `json:"spec"`
	}
	if err := json.Unmarshal([]byte(s.MustKubectl(t, "get", "job", "pi", "-n", ns, "-o", "json")), &job); err != nil {
		t.Fatal(err)
	}
	uid := job.Metadata.UID
	sp := job.Spec
	if sp.BackoffLimit == nil || *sp.BackoffLimit != 4 || sp.Completions == nil || *sp.Completions != 1 ||
		sp.Parallelism == nil || *sp.Parallelism != 1 || sp.CompletionMode != "NonIndexed" ||
		sp.Suspend == nil || *sp.Suspend || sp.PodReplacement != "TerminatingOrFailed" || job.Metadata.Generation != 1 {
		t.Errorf("job defaults wrong: %+v generation %d", sp, job.Metadata.Generation)
	}
	if sp.Selector.MatchLabels["batch.kubernetes.io/controller-uid"] != uid {
		t.Errorf("generated selector = %v, want controller-uid %s", sp.Selector.MatchLabels, uid)
	}
	tl := sp.Template.Metadata.Labels
	for k, v := range map[string]string{"batch.kubernetes.io/controller-uid": uid, "controller-uid": uid,
		"batch.kubernetes.io/job-name": "pi", "job-name": "pi"} {
		if tl[k] != v {
			t.Errorf("template label %s = %q, want %q", k, tl[k], v)
		}
	}
	ps := sp.Template.Spec
	if ps.RestartPolicy != "Never" || ps.TerminationGracePeriodSeconds == nil || *ps.TerminationGracePeriodSeconds != 30 ||
		ps.DNSPolicy != "ClusterFirst" || ps.SchedulerName != "default-scheduler" {
		t.Errorf("pod template defaults wrong: %+v", ps)
	}
	if c := ps.Containers[0]; c.ImagePullPolicy != "IfNotPresent" || c.TerminationMessagePath != "/dev/termination-log" || c.TerminationMessagePolicy != "File" {
		t.Errorf("container defaults wrong: %+v", c)
	}
	// Deployment defaults and the nginx:latest pull policy.
	out := s.MustKubectl(t, "get", "deploy", "nginx", "-n", ns, "-o",
		"jsonpath={.spec.progressDeadlineSeconds} {.spec.revisionHistoryLimit} {.spec.template.spec.containers[0].imagePullPolicy}")
	if out != "600 2 Always" {
		t.Errorf("deployment defaults = %q", out)
	}
	out = s.MustKubectl(t, "get", "cj", "test-cronjob", "-n", ns, "-o",
		"jsonpath={.spec.concurrencyPolicy} {.spec.successfulJobsHistoryLimit} {.spec.failedJobsHistoryLimit} {.spec.suspend}")
	if out != "Allow 3 1 false" {
		t.Errorf("cronjob defaults = %q", out)
	}
	out = s.MustKubectl(t, "get", "sts", "web", "-n", ns, "-o",
		"jsonpath={.spec.podManagementPolicy} {.spec.updateStrategy.type} {.spec.updateStrategy.rollingUpdate.partition} {.spec.revisionHistoryLimit}")
	if out != "OrderedReady RollingUpdate 0 10" {
		t.Errorf("statefulset defaults = %q", out)
	}
	out = s.MustKubectl(t, "get", "ds", "fluentd-elasticsearch", "-n", ns, "-o",
		"jsonpath={.spec.updateStrategy.type} {.spec.updateStrategy.rollingUpdate.maxUnavailable} {.spec.revisionHistoryLimit}")
	if out != "RollingUpdate 1 10" {
		t.Errorf("daemonset defaults = %q", out)
	}

	// Columns as Kubernetes prints them.
	out = s.MustKubectl(t, "get", "jobs,deploy,sts,ds,cj", "-n", ns)
	for _, hdr := range []string{
		`NAME +STATUS +COMPLETIONS +DURATION +AGE`,
		`NAME +READY +UP-TO-DATE +AVAILABLE +AGE`,
		`NAME +READY +AGE`,
		`NAME +DESIRED +CURRENT +READY +UP-TO-DATE +AVAILABLE +NODE SELECTOR +AGE`,
		`NAME +SCHEDULE +TIMEZONE +SUSPEND +ACTIVE +LAST SCHEDULE +AGE`,
		`job.batch/pi +\S+ +[01]/1 `,
		`cronjob.batch/test-cronjob +\*/1 \* \* \* \* +Asia/Shanghai +False +0 +<none> `,
		// nginx has no command: herd's process runtime cannot run its
		// image's entrypoint, so its pods never become available.
		`deployment.apps/nginx +0/2 +[0-2] +0 `,
		`statefulset.apps/web +0/3 `,
	} {
		if !regexp.MustCompile(hdr).MatchString(out) {
			t.Errorf("kubectl get output lacks %q:\n%s", hdr, out)
		}
	}
	out = s.MustKubectl(t, "get", "all", "-n", ns)
	for _, w := range []string{"service/nginx-headless", "deployment.apps/nginx", "statefulset.apps/web",
		"daemonset.apps/fluentd-elasticsearch", "job.batch/pi", "cronjob.batch/test-cronjob"} {
		if !strings.Contains(out, w) {
			t.Errorf("get all lacks %s:\n%s", w, out)
		}
	}
	out = s.MustKubectl(t, "get", "jobs", "-n", ns, "-o", "wide")
	if !regexp.MustCompile(`NAME +STATUS +COMPLETIONS +DURATION +AGE +CONTAINERS +IMAGES +SELECTOR`).MatchString(out) ||
		!strings.Contains(out, "perl:5.34.0") {
		t.Errorf("get jobs -o wide:\n%s", out)
	}
}

func TestKubectlVerbs(t *testing.T) {
	s := shared
	ns := s.Namespace(t)
	s.MustKubectl(t, "apply", "-n", ns, "-f", testdata("pi-job.yaml"))

	out := s.MustKubectl(t, "explain", "job.spec.backoffLimit")
	if !strings.Contains(out, "FIELD: backoffLimit <integer>") || !strings.Contains(out, "Specifies the number of retries") {
		t.Errorf("explain:\n%s", out)
	}
	out = s.MustKubectl(t, "patch", "job", "pi", "-n", ns, "-p", `{"spec":{"suspend":true}}`)
	if !strings.Contains(out, "job.batch/pi patched") {
		t.Errorf("patch: %s", out)
	}
	if v := s.MustKubectl(t, "get", "job", "pi", "-n", ns, "-o", "jsonpath={.spec.suspend} {.metadata.generation}"); v != "true 2" {
		t.Errorf("after patch suspend/generation = %q", v)
	}
	out = s.MustKubectl(t, "apply", "--server-side", "--force-conflicts", "-n", ns, "-f", testdata("pi-job.yaml"))
	if !strings.Contains(out, "job.batch/pi serverside-applied") {
		t.Errorf("server-side apply: %s", out)
	}
	mf := s.MustKubectl(t, "get", "job", "pi", "-n", ns, "--show-managed-fields", "-o", "jsonpath={.metadata.managedFields[*].manager}")
	if !strings.Contains(mf, "kubectl") {
		t.Errorf("managedFields managers = %q", mf)
	}
	s.MustKubectl(t, "label", "job", "pi", "-n", ns, "tier=batch")
	s.MustKubectl(t, "annotate", "job", "pi", "-n", ns, "note=hello")
	if v := s.MustKubectl(t, "get", "job", "pi", "-n", ns, "-o", "jsonpath={.metadata.labels.tier} {.metadata.annotations.note}"); v != "batch hello" {
		t.Errorf("label/annotate = %q", v)
	}
	if v := s.MustKubectl(t, "get", "jobs", "-n", ns, "-l", "tier=batch", "-o", "name"); strings.TrimSpace(v) != "job.batch/pi" {
		t.Errorf("label selector = %q", v)
	}
	if v := s.MustKubectl(t, "get", "jobs", "-n", ns, "--field-selector", "metadata.name=pi", "-o", "name"); strings.TrimSpace(v) != "job.batch/pi" {
		t.Errorf("field selector = %q", v)
	}
	if out, err := s.Kubectl(t, "get", "jobs", "-n", ns, "--field-selector", "spec.bogus=1"); err == nil || !strings.Contains(out, "field label not supported: spec.bogus") {
		t.Errorf("bad field selector: err=%v %s", err, out)
	}
	// Dry run stores nothing.
	s.MustKubectl(t, "create", "configmap", "dry", "-n", ns, "--from-literal=a=b", "--dry-run=server")
	if _, err := s.Kubectl(t, "get", "configmap", "dry", "-n", ns); err == nil {
		t.Error("dry-run create stored the object")
	}
	// Pagination: kubectl --chunk-size lists in pages.
	for i := 0; i < 5; i++ {
		s.MustKubectl(t, "create", "configmap", "page-"+string(rune('a'+i)), "-n", ns)
	}
	raw := s.MustKubectl(t, "get", "--raw", "/api/v1/namespaces/"+ns+"/configmaps?limit=2")
	var list struct {
		Metadata struct {
			Continue string `json:"continue"`
		} `json:"metadata"`
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal([]byte(raw), &list); err != nil || len(list.Items) != 2 || list.Metadata.Continue == "" {
		t.Errorf("paged list: %v items=%d continue=%q", err, len(list.Items), list.Metadata.Continue)
	}
	if v := s.MustKubectl(t, "get", "configmaps", "-n", ns, "--chunk-size=2", "-o", "name"); strings.Count(v, "configmap/page-") != 5 {
		t.Errorf("chunked list:\n%s", v)
	}
	out = s.MustKubectl(t, "delete", "job", "pi", "-n", ns)
	if !strings.Contains(out, `job.batch "pi" deleted`) {
		t.Errorf("delete: %s", out)
	}
	if _, err := s.Kubectl(t, "get", "job", "pi", "-n", ns); err == nil {
		t.Error("job still there after delete")
	}
}

func TestBadInputIsRejected(t *testing.T) {
	s := shared
	ns := s.Namespace(t)
	badJob := strings.Replace(readFile(t, "pi-job.yaml"), "restartPolicy: Never", "restartPolicy: Always", 1)
	out, err := s.KubectlIn(t, badJob, "apply", "-n", ns, "-f", "-")
	if err == nil || !strings.Contains(out, `The Job "pi" is invalid`) || !strings.Contains(out, `spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"`) {
		t.Errorf("job with restartPolicy Always: err=%v\n%s", err, out)
	}
	badDeploy := strings.Replace(readFile(t, "nginx-deploy.yaml"), "      labels:\n        k8s-app: nginx\n    spec:", "      labels:\n        k8s-app: other\n    spec:", 1)
	out, err = s.KubectlIn(t, badDeploy, "apply", "-n", ns, "-f", "-")
	if err == nil || !strings.Contains(out, `The Deployment "nginx" is invalid`) || !strings.Contains(out, "spec.template.metadata.labels") {
		t.Errorf("deployment selector mismatch: err=%v\n%s", err, out)
	}
	unknown := strings.Replace(readFile(t, "pi-job.yaml"), "  backoffLimit: 4", "  backoffLimit: 4\n  bogusField: 1", 1)
	out, err = s.KubectlIn(t, unknown, "apply", "-n", ns, "-f", "-")
	if err == nil || !strings.Contains(out, `unknown field "spec.bogusField"`) {
		t.Errorf("unknown field: err=%v\n%s", err, out)
	}
	for _, kind := range []string{"job/pi", "deployment/nginx"} {
		if _, err := s.Kubectl(t, "get", kind, "-n", ns); err == nil {
			t.Errorf("%s was stored despite the error", kind)
		}
	}

	s.MustKubectl(t, "apply", "-n", ns, "-f", testdata("pi-job.yaml"))
	changed := strings.Replace(readFile(t, "pi-job.yaml"), "perl:5.34.0", "perl:5.36.0", 1)
	out, err = s.KubectlIn(t, changed, "apply", "-n", ns, "-f", "-")
	if err == nil || !strings.Contains(out, "spec.template: Invalid value") || !strings.Contains(out, "field is immutable") {
		t.Errorf("job template change: err=%v\n%s", err, out)
	}
	if img := s.MustKubectl(t, "get", "job", "pi", "-n", ns, "-o", "jsonpath={.spec.template.spec.containers[0].image}"); img != "perl:5.34.0" {
		t.Errorf("template changed to %s", img)
	}
	out, err = s.Kubectl(t, "patch", "job", "pi", "-n", ns, "--type=merge", "-p", `{"spec":`)
	if err == nil || !strings.Contains(out, "BadRequest") && !strings.Contains(out, "unexpected end of JSON input") && !strings.Contains(out, "json: ") {
		t.Errorf("malformed patch: err=%v\n%s", err, out)
	}
	code := rawStatus(t, s, "PATCH", "/apis/batch/v1/namespaces/"+ns+"/jobs/pi", "application/merge-patch+json", `{"spec":`)
	if code != http.StatusBadRequest {
		t.Errorf("malformed merge patch status = %d, want 400", code)
	}
	code = rawStatus(t, s, "PATCH", "/apis/batch/v1/namespaces/"+ns+"/jobs/pi", "application/json-patch+json", `[{"op":"bogus"}]`)
	if code != http.StatusBadRequest && code != http.StatusUnprocessableEntity {
		t.Errorf("malformed JSON patch status = %d", code)
	}
	// A stale resourceVersion conflicts.
	s.MustKubectl(t, "create", "configmap", "cm", "-n", ns, "--from-literal=a=1")
	rv := s.MustKubectl(t, "get", "configmap", "cm", "-n", ns, "-o", "jsonpath={.metadata.resourceVersion}")
	s.MustKubectl(t, "patch", "configmap", "cm", "-n", ns, "-p", `{"data":{"a":"2"}}`)
	stale := `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm","namespace":"` + ns + `","resourceVersion":"` + rv + `"},"data":{"a":"3"}}`
	out, err = s.KubectlIn(t, stale, "replace", "-f", "-")
	if err == nil || !strings.Contains(out, "Conflict") && !strings.Contains(out, "the object has been modified") {
		t.Errorf("stale update: err=%v\n%s", err, out)
	}
	if v := s.MustKubectl(t, "get", "configmap", "cm", "-n", ns, "-o", "jsonpath={.data.a}"); v != "2" {
		t.Errorf("stale update stored: a=%s", v)
	}
}

func TestWatchStreamsChanges(t *testing.T) {
	s := shared
	ns := s.Namespace(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, kubectl, "get", "configmaps", "-n", ns, "-w", "--output-watch-events")
	cmd.Env = append(os.Environ(), "KUBECONFIG="+s.Kubeconfig)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); cmd.Wait() }()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	time.Sleep(time.Second) // let the watch start
	expect := func(re string) {
		t.Helper()
		deadline := time.After(15 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("watch ended before %q", re)
				}
				if regexp.MustCompile(re).MatchString(l) {
					return
				}
			case <-deadline:
				t.Fatalf("watch did not show %q", re)
			}
		}
	}
	s.MustKubectl(t, "create", "configmap", "w1", "-n", ns, "--from-literal=v=one")
	expect(`^ADDED +w1 +1 `)
	s.MustKubectl(t, "patch", "configmap", "w1", "-n", ns, "-p", `{"data":{"w":"two"}}`)
	expect(`^MODIFIED +w1 +2 `)
	s.MustKubectl(t, "delete", "configmap", "w1", "-n", ns)
	expect(`^DELETED +w1 `)
}

// TestUnauthenticatedIsRejected: a request without credentials is
// system:anonymous, which Kubernetes lets read only /livez, /readyz,
// /healthz and /version; everything else is 403.
func TestUnauthenticatedIsRejected(t *testing.T) {
	server := shared.MustKubectl(t, "config", "view", "--minify", "-o", "jsonpath={.clusters[0].cluster.server}")
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	for path, want := range map[string]int{
		"/api/v1/namespaces": http.StatusForbidden,
		"/api":               http.StatusForbidden,
		"/metrics":           http.StatusForbidden,
		"/debug/pprof/":      http.StatusForbidden,
		"/readyz":            http.StatusOK,
		"/livez":             http.StatusOK,
		"/healthz":           http.StatusOK,
		"/version":           http.StatusOK,
	} {
		resp, err := c.Get(server + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("anonymous GET %s = %d, want %d", path, resp.StatusCode, want)
		}
	}
}

func TestRestartKeepsEverything(t *testing.T) {
	dir := filepathTemp("restart")
	defer os.RemoveAll(dir)
	s, err := startServer(dir)
	if err != nil {
		t.Fatal(err)
	}
	token, _ := os.ReadFile(filepath.Join(dir, "node-token"))
	if len(strings.TrimSpace(string(token))) < 32 {
		t.Fatalf("node-token = %q", token)
	}
	// A second server on the same data dir refuses to start.
	second := exec.Command(herdBin, "server", "--data-dir", dir, "--listen", "127.0.0.1:0")
	out, err := second.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "in use by another herd server") {
		s.Kill()
		t.Fatalf("second server on same data dir: err=%v\n%s", err, out)
	}
	s.MustKubectl(t, "apply", "-f", testdata("pi-job.yaml"))
	s.MustKubectl(t, "create", "configmap", "keep", "--from-literal=k=v")
	uid := s.MustKubectl(t, "get", "job", "pi", "-o", "jsonpath={.metadata.uid}")
	kubeconfig, _ := os.ReadFile(s.Kubeconfig)

	s.Kill() // kill -9: everything acknowledged must survive
	s, err = startServer(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.MustKubectl(t, "get", "job", "pi", "-o", "jsonpath={.metadata.uid}"); got != uid {
		t.Errorf("job uid after restart = %s, want %s", got, uid)
	}
	if v := s.MustKubectl(t, "get", "configmap", "keep", "-o", "jsonpath={.data.k}"); v != "v" {
		t.Errorf("configmap after restart: %q", v)
	}
	token2, _ := os.ReadFile(filepath.Join(dir, "node-token"))
	if string(token2) != string(token) {
		t.Error("node-token changed across restart")
	}
	// The old kubeconfig's credentials still work (only the port may change).
	newKC, _ := os.ReadFile(s.Kubeconfig)
	if credentials(string(kubeconfig)) != credentials(string(newKC)) {
		t.Error("kubeconfig credentials changed across restart")
	}
	if err := s.Stop(); err != nil {
		t.Fatalf("SIGTERM: server did not exit cleanly: %v\n%s", err, s.log.String())
	}
}

func credentials(kc string) string {
	var keep []string
	for _, l := range strings.Split(kc, "\n") {
		if strings.Contains(l, "-data:") {
			keep = append(keep, strings.TrimSpace(l))
		}
	}
	return strings.Join(keep, "\n")
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(testdata(name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// rawStatus sends a request with the admin credentials and returns the HTTP status.
func rawStatus(t *testing.T, s *Server, method, path, contentType, body string) int {
	t.Helper()
	out, _ := s.KubectlIn(t, "", "config", "view", "--raw", "--minify", "-o", "json")
	var kc struct {
		Clusters []struct {
			Cluster struct {
				Server string `json:"server"`
			} `json:"cluster"`
		} `json:"clusters"`
		Users []struct {
			User struct {
				Cert string `json:"client-certificate-data"`
				Key  string `json:"client-key-data"`
			} `json:"user"`
		} `json:"users"`
	}
	if err := json.Unmarshal([]byte(out), &kc); err != nil {
		t.Fatal(err)
	}
	cert, key := decodeB64(t, kc.Users[0].User.Cert), decodeB64(t, kc.Users[0].User.Key)
	pair, err := tls.X509KeyPair(cert, key)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		InsecureSkipVerify: true, Certificates: []tls.Certificate{pair}}}}
	req, _ := http.NewRequest(method, kc.Clusters[0].Cluster.Server+path, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
