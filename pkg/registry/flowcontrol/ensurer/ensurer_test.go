package ensurer

import (
	"context"
	"testing"

	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/apis/flowcontrol/bootstrap"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"
)

func writes(c *fake.Clientset) []clienttesting.Action {
	var out []clienttesting.Action
	for _, a := range c.Actions() {
		switch a.GetVerb() {
		case "create", "update", "delete":
			out = append(out, a)
		}
	}
	return out
}

func TestEnsureCreatesEverythingOnce(t *testing.T) {
	c := fake.NewSimpleClientset()
	ctx := context.Background()
	if err := Ensure(ctx, c.FlowcontrolV1()); err != nil {
		t.Fatal(err)
	}
	pls, _ := c.FlowcontrolV1().PriorityLevelConfigurations().List(ctx, metav1.ListOptions{})
	fss, _ := c.FlowcontrolV1().FlowSchemas().List(ctx, metav1.ListOptions{})
	wantPL := len(bootstrap.MandatoryPriorityLevelConfigurations) + len(bootstrap.SuggestedPriorityLevelConfigurations)
	wantFS := len(bootstrap.MandatoryFlowSchemas) + len(bootstrap.SuggestedFlowSchemas)
	if len(pls.Items) != wantPL || len(fss.Items) != wantFS {
		t.Fatalf("%d levels and %d schemas, want %d and %d", len(pls.Items), len(fss.Items), wantPL, wantFS)
	}
	for _, fs := range fss.Items {
		if fs.Annotations[flowcontrolv1.AutoUpdateAnnotationKey] != "true" {
			t.Errorf("%s created without the autoupdate annotation", fs.Name)
		}
	}
	c.ClearActions()
	if err := Ensure(ctx, c.FlowcontrolV1()); err != nil {
		t.Fatal(err)
	}
	if w := writes(c); len(w) != 0 {
		t.Errorf("a second pass wrote %d times: %v", len(w), w)
	}
}

func TestMandatoryRestoredSuggestedRespected(t *testing.T) {
	c := fake.NewSimpleClientset()
	ctx := context.Background()
	if err := Ensure(ctx, c.FlowcontrolV1()); err != nil {
		t.Fatal(err)
	}
	fsc := c.FlowcontrolV1().FlowSchemas()
	plc := c.FlowcontrolV1().PriorityLevelConfigurations()

	// Mandatory catch-all FlowSchema changed, even with auto-update off: restored.
	catchAll, _ := fsc.Get(ctx, flowcontrolv1.FlowSchemaNameCatchAll, metav1.GetOptions{})
	catchAll.Spec.MatchingPrecedence = 5000
	catchAll.Annotations[flowcontrolv1.AutoUpdateAnnotationKey] = "false"
	fsc.Update(ctx, catchAll, metav1.UpdateOptions{})

	// Exempt level: shares and lending are the user's; the type is not.
	exempt, _ := plc.Get(ctx, flowcontrolv1.PriorityLevelConfigurationNameExempt, metav1.GetOptions{})
	exempt.Spec.Exempt = &flowcontrolv1.ExemptPriorityLevelConfiguration{NominalConcurrencyShares: ptr.To[int32](7), LendablePercent: ptr.To[int32](20)}
	plc.Update(ctx, exempt, metav1.UpdateOptions{})

	// Suggested global-default: changed with auto-update off → kept.
	gd, _ := fsc.Get(ctx, "global-default", metav1.GetOptions{})
	gd.Spec.MatchingPrecedence = 9800
	gd.Annotations[flowcontrolv1.AutoUpdateAnnotationKey] = "false"
	fsc.Update(ctx, gd, metav1.UpdateOptions{})

	// Suggested service-accounts: changed with auto-update on → restored.
	sa, _ := fsc.Get(ctx, "service-accounts", metav1.GetOptions{})
	sa.Spec.MatchingPrecedence = 9700
	fsc.Update(ctx, sa, metav1.UpdateOptions{})

	// Suggested workload-low deleted → recreated.
	plc.Delete(ctx, "workload-low", metav1.DeleteOptions{})

	// An auto-updated object the configuration no longer has → deleted; a
	// user's own → kept.
	fsc.Create(ctx, &flowcontrolv1.FlowSchema{ObjectMeta: metav1.ObjectMeta{Name: "old-bootstrap",
		Annotations: map[string]string{flowcontrolv1.AutoUpdateAnnotationKey: "true"}}}, metav1.CreateOptions{})
	fsc.Create(ctx, &flowcontrolv1.FlowSchema{ObjectMeta: metav1.ObjectMeta{Name: "mine"}}, metav1.CreateOptions{})

	if err := Ensure(ctx, c.FlowcontrolV1()); err != nil {
		t.Fatal(err)
	}
	catchAll, _ = fsc.Get(ctx, flowcontrolv1.FlowSchemaNameCatchAll, metav1.GetOptions{})
	if catchAll.Spec.MatchingPrecedence != 10000 || catchAll.Annotations[flowcontrolv1.AutoUpdateAnnotationKey] != "true" {
		t.Errorf("mandatory catch-all not restored: precedence %d, annotation %q", catchAll.Spec.MatchingPrecedence, catchAll.Annotations[flowcontrolv1.AutoUpdateAnnotationKey])
	}
	exempt, _ = plc.Get(ctx, flowcontrolv1.PriorityLevelConfigurationNameExempt, metav1.GetOptions{})
	if e := exempt.Spec.Exempt; e == nil || *e.NominalConcurrencyShares != 7 || *e.LendablePercent != 20 {
		t.Errorf("exempt level's tunables overwritten: %+v", exempt.Spec.Exempt)
	}
	gd, _ = fsc.Get(ctx, "global-default", metav1.GetOptions{})
	if gd.Spec.MatchingPrecedence != 9800 {
		t.Errorf("suggested global-default without auto-update was overwritten")
	}
	sa, _ = fsc.Get(ctx, "service-accounts", metav1.GetOptions{})
	if sa.Spec.MatchingPrecedence != 9000 {
		t.Errorf("suggested service-accounts with auto-update not restored: %d", sa.Spec.MatchingPrecedence)
	}
	if _, err := plc.Get(ctx, "workload-low", metav1.GetOptions{}); err != nil {
		t.Errorf("workload-low not recreated: %v", err)
	}
	if _, err := fsc.Get(ctx, "old-bootstrap", metav1.GetOptions{}); err == nil {
		t.Errorf("auto-updated object outside the configuration kept")
	}
	if _, err := fsc.Get(ctx, "mine", metav1.GetOptions{}); err != nil {
		t.Errorf("user's flow schema deleted: %v", err)
	}
}

func TestAutoUpdateWithoutAnnotation(t *testing.T) {
	m := &metav1.ObjectMeta{Generation: 1}
	if !autoUpdate(m) {
		t.Error("generation 1 without annotation: not auto-updated")
	}
	m.Generation = 2
	if autoUpdate(m) {
		t.Error("changed object without annotation: auto-updated")
	}
	m.Annotations = map[string]string{flowcontrolv1.AutoUpdateAnnotationKey: "true"}
	if !autoUpdate(m) {
		t.Error("annotation true: not auto-updated")
	}
}
