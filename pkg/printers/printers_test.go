package printers

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var testNow = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func clock() time.Time { return testNow }

// ago is a metav1.Time d before testNow.
func ago(d time.Duration) metav1.Time { return metav1.NewTime(testNow.Add(-d)) }

func agoPtr(d time.Duration) *metav1.Time { t := ago(d); return &t }

func convert(t *testing.T, gr schema.GroupResource, obj runtime.Object) *metav1.Table {
	t.Helper()
	table, err := ForWithClock(gr, clock).ConvertToTable(context.Background(), obj, nil)
	if err != nil {
		t.Fatalf("ConvertToTable: %v", err)
	}
	return table
}

// cellsOf converts one object and returns its single row's cells.
func cellsOf(t *testing.T, gr schema.GroupResource, obj runtime.Object) []interface{} {
	t.Helper()
	table := convert(t, gr, obj)
	if len(table.Rows) != 1 {
		t.Fatalf("got %d rows, want 1", len(table.Rows))
	}
	if len(table.Rows[0].Cells) != len(table.ColumnDefinitions) {
		t.Fatalf("row has %d cells for %d columns", len(table.Rows[0].Cells), len(table.ColumnDefinitions))
	}
	return table.Rows[0].Cells
}

func checkCells(t *testing.T, got, want []interface{}) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("cells:\n got %#v\nwant %#v", got, want)
	}
}

var (
	podsGR = schema.GroupResource{Resource: "pods"}
	jobsGR = schema.GroupResource{Group: "batch", Resource: "jobs"}
)

func TestColumns(t *testing.T) {
	tests := []struct {
		gr      schema.GroupResource
		columns string // name:priority, priority omitted when 0
	}{
		{podsGR, "Name Ready Status Restarts Age IP:1 Node:1 Nominated Node:1 Readiness Gates:1"},
		{schema.GroupResource{Resource: "nodes"}, "Name Status Roles Age Version Internal-IP:1 External-IP:1 OS-Image:1 Kernel-Version:1 Container-Runtime:1"},
		{schema.GroupResource{Resource: "namespaces"}, "Name Status Age"},
		{schema.GroupResource{Resource: "events"}, "Last Seen Type Reason Object Subobject:1 Source:1 Message First Seen:1 Count:1 Name:1"},
		{schema.GroupResource{Group: "events.k8s.io", Resource: "events"}, "Last Seen Type Reason Object Subobject:1 Source:1 Message First Seen:1 Count:1 Name:1"},
		{schema.GroupResource{Resource: "configmaps"}, "Name Data Age"},
		{schema.GroupResource{Resource: "secrets"}, "Name Type Data Age"},
		{schema.GroupResource{Resource: "serviceaccounts"}, "Name Secrets Age"},
		{schema.GroupResource{Resource: "services"}, "Name Type Cluster-IP External-IP Port(s) Age Selector:1"},
		{schema.GroupResource{Resource: "endpoints"}, "Name Endpoints Age"},
		{schema.GroupResource{Resource: "persistentvolumes"}, "Name Capacity Access Modes Reclaim Policy Status Claim StorageClass VolumeAttributesClass Reason Age VolumeMode:1"},
		{schema.GroupResource{Resource: "persistentvolumeclaims"}, "Name Status Volume Capacity Access Modes StorageClass VolumeAttributesClass Age VolumeMode:1"},
		{schema.GroupResource{Group: "apps", Resource: "deployments"}, "Name Ready Up-to-date Available Age Containers:1 Images:1 Selector:1"},
		{schema.GroupResource{Group: "apps", Resource: "replicasets"}, "Name Desired Current Ready Age Containers:1 Images:1 Selector:1"},
		{schema.GroupResource{Group: "apps", Resource: "statefulsets"}, "Name Ready Age Containers:1 Images:1"},
		{schema.GroupResource{Group: "apps", Resource: "daemonsets"}, "Name Desired Current Ready Up-to-date Available Node Selector Age Containers:1 Images:1 Selector:1"},
		{schema.GroupResource{Group: "apps", Resource: "controllerrevisions"}, "Name Controller Revision Age"},
		{jobsGR, "Name Status Completions Duration Age Containers:1 Images:1 Selector:1"},
		{schema.GroupResource{Group: "batch", Resource: "cronjobs"}, "Name Schedule Timezone Suspend Active Last Schedule Age Containers:1 Images:1 Selector:1"},
		{schema.GroupResource{Group: "coordination.k8s.io", Resource: "leases"}, "Name Holder Age"},
		{schema.GroupResource{Group: "discovery.k8s.io", Resource: "endpointslices"}, "Name AddressType Ports Endpoints Age"},
	}
	for _, tc := range tests {
		t.Run(tc.gr.String(), func(t *testing.T) {
			p, ok := printers[tc.gr]
			if !ok {
				t.Fatalf("no printer for %s", tc.gr)
			}
			var got []string
			names := 0
			for _, c := range p.columns {
				s := c.Name
				if c.Priority != 0 {
					s += ":" + string(rune('0'+c.Priority))
				}
				got = append(got, s)
				if c.Description == "" {
					t.Errorf("column %q has no description", c.Name)
				}
				if c.Format == "name" {
					names++
					if c.Name != "Name" {
						t.Errorf("column %q has format name", c.Name)
					}
				}
			}
			if g := strings.Join(got, " "); g != tc.columns {
				t.Errorf("columns\n got %q\nwant %q", g, tc.columns)
			}
			if names != 1 {
				t.Errorf("%d columns with format name, want 1", names)
			}
		})
	}
}

func TestConvertToTableListAndOptions(t *testing.T) {
	list := &corev1.ConfigMapList{
		ListMeta: metav1.ListMeta{ResourceVersion: "42", Continue: "next-token", RemainingItemCount: ptr(int64(7))},
		Items: []corev1.ConfigMap{
			{ObjectMeta: metav1.ObjectMeta{Name: "a", CreationTimestamp: ago(90 * time.Second)}, Data: map[string]string{"x": "1"}},
			{ObjectMeta: metav1.ObjectMeta{Name: "b", CreationTimestamp: ago(3 * time.Hour)}, BinaryData: map[string][]byte{"y": nil}, Data: map[string]string{"z": ""}},
		},
	}
	gr := schema.GroupResource{Resource: "configmaps"}
	conv := ForWithClock(gr, clock)

	table, err := conv.ConvertToTable(context.Background(), list, &metav1.TableOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if table.ResourceVersion != "42" || table.Continue != "next-token" || table.RemainingItemCount == nil || *table.RemainingItemCount != 7 {
		t.Errorf("list meta not copied: %#v", table.ListMeta)
	}
	if len(table.ColumnDefinitions) != 3 || table.ColumnDefinitions[0].Format != "name" {
		t.Errorf("column definitions: %#v", table.ColumnDefinitions)
	}
	wantRows := [][]interface{}{{"a", int64(1), "90s"}, {"b", int64(2), "3h"}}
	if len(table.Rows) != len(wantRows) {
		t.Fatalf("got %d rows", len(table.Rows))
	}
	for i, row := range table.Rows {
		checkCells(t, row.Cells, wantRows[i])
		if row.Object.Object != &list.Items[i] {
			t.Errorf("row %d object is %p, want the list item %p", i, row.Object.Object, &list.Items[i])
		}
	}

	table, err = conv.ConvertToTable(context.Background(), list, &metav1.TableOptions{NoHeaders: true})
	if err != nil {
		t.Fatal(err)
	}
	if table.ColumnDefinitions != nil {
		t.Errorf("NoHeaders: got column definitions %#v", table.ColumnDefinitions)
	}
	if len(table.Rows) != 2 {
		t.Errorf("NoHeaders: got %d rows", len(table.Rows))
	}

	// A single object: its resourceVersion is the table's.
	one := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "one", ResourceVersion: "9"}}
	table, err = conv.ConvertToTable(context.Background(), one, nil)
	if err != nil {
		t.Fatal(err)
	}
	if table.ResourceVersion != "9" || len(table.Rows) != 1 || table.Rows[0].Object.Object != one {
		t.Errorf("single object table: %#v", table)
	}
	checkCells(t, table.Rows[0].Cells, []interface{}{"one", int64(0), "<unknown>"})

	// An empty list gives an empty (not nil) row set.
	table, err = conv.ConvertToTable(context.Background(), &corev1.ConfigMapList{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if table.Rows == nil || len(table.Rows) != 0 {
		t.Errorf("empty list rows: %#v", table.Rows)
	}

	if _, err := conv.ConvertToTable(context.Background(), list, &metav1.ListOptions{}); err == nil {
		t.Error("unrecognized table options type accepted")
	}
	if _, err := conv.ConvertToTable(context.Background(), &corev1.Secret{}, nil); err == nil {
		t.Error("object of another type accepted")
	}
}

func TestDefaultConvertor(t *testing.T) {
	gr := schema.GroupResource{Group: "rbac.authorization.k8s.io", Resource: "roles"}
	table, err := For(gr).ConvertToTable(context.Background(), &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "r", CreationTimestamp: metav1.NewTime(testNow)},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(table.ColumnDefinitions) != 2 || table.ColumnDefinitions[0].Name != "Name" || table.ColumnDefinitions[1].Name != "Created At" {
		t.Errorf("default columns: %#v", table.ColumnDefinitions)
	}
	checkCells(t, table.Rows[0].Cells, []interface{}{"r", "2026-05-01T12:00:00Z"})
}

func TestAge(t *testing.T) {
	tests := []struct {
		created metav1.Time
		want    string
	}{
		{metav1.Time{}, "<unknown>"},
		{ago(0), "0s"},
		{ago(59 * time.Second), "59s"},
		{ago(2*time.Minute + 30*time.Second), "2m30s"},
		{ago(10*time.Minute + 30*time.Second), "10m"},
		{ago(3*time.Hour + 20*time.Minute), "3h20m"},
		{ago(9 * time.Hour), "9h"},
		{ago(50 * time.Hour), "2d2h"},
		{ago(9 * 24 * time.Hour), "9d"},
		{ago(400 * 24 * time.Hour), "400d"},
		{ago(3*365*24*time.Hour + 24*time.Hour), "3y1d"},
		{ago(-5 * time.Second), "<invalid>"},
	}
	for _, tc := range tests {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "n", CreationTimestamp: tc.created}, Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}}
		got := cellsOf(t, schema.GroupResource{Resource: "namespaces"}, ns)
		checkCells(t, got, []interface{}{"n", "Active", tc.want})
	}
}

func ptr[T any](v T) *T { return &v }

func TestDeployments(t *testing.T) {
	gr := schema.GroupResource{Group: "apps", Resource: "deployments"}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", CreationTimestamp: ago(5 * time.Minute)},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr(int32(3)),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{
				{Name: "nginx", Image: "nginx:1.27"}, {Name: "side", Image: "busybox"},
			}}},
		},
		Status: appsv1.DeploymentStatus{ReadyReplicas: 2, UpdatedReplicas: 3, AvailableReplicas: 1},
	}
	checkCells(t, cellsOf(t, gr, d), []interface{}{"web", "2/3", int64(3), int64(1), "5m", "nginx,side", "nginx:1.27,busybox", "app=web"})

	d.Spec.Selector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "x", Operator: "Bogus"}}}
	d.Spec.Replicas = ptr(int32(0))
	checkCells(t, cellsOf(t, gr, d), []interface{}{"web", "2/0", int64(3), int64(1), "5m", "nginx,side", "nginx:1.27,busybox", "<invalid>"})
}
