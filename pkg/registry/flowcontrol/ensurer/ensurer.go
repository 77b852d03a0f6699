// Package ensurer keeps API Priority and Fairness' bootstrap configuration
// (k8s.io/apiserver/pkg/apis/flowcontrol/bootstrap) in the cluster with
// kube-apiserver's rules: mandatory objects (exempt, catch-all) are created
// and always brought back to their spec (except the exempt level's
// nominalConcurrencyShares and lendablePercent, which users may tune);
// suggested objects are created when missing and updated only while
// annotated apf.kubernetes.io/autoupdate-spec=true (an object without the
// annotation is treated as auto-updated while its generation is 1); objects
// annotated for auto-update that are no longer in the bootstrap set are
// deleted. It runs at start and every minute; it does not serve or
// validate the resources (pkg/registry/flowcontrol/...).
package ensurer

import (
	"context"
	"fmt"
	"strconv"
	"time"

	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apiserver/pkg/apis/flowcontrol/bootstrap"
	flowcontrolclient "k8s.io/client-go/kubernetes/typed/flowcontrol/v1"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
)

// Period is how often the configuration is ensured after start.
const Period = time.Minute

// FieldManager owns the fields the ensurer writes.
const FieldManager = "api-priority-and-fairness-config-producer-v1"

// Run ensures the configuration now (retrying every second until it
// succeeds or ctx ends) and then every Period.
func Run(ctx context.Context, client flowcontrolclient.FlowcontrolV1Interface, clk clock.WithTicker) {
	if clk == nil {
		clk = clock.RealClock{}
	}
	logger := klog.FromContext(ctx)
	for {
		err := Ensure(ctx, client)
		if err == nil {
			break
		}
		logger.V(2).Info("Ensuring the API Priority and Fairness bootstrap configuration failed; retrying", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-clk.After(time.Second):
		}
	}
	ticker := clk.NewTicker(Period)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C():
			if err := Ensure(ctx, client); err != nil {
				logger.Error(err, "Ensuring the API Priority and Fairness bootstrap configuration")
			}
		}
	}
}

// Ensure brings the cluster's FlowSchemas and PriorityLevelConfigurations
// in line with the bootstrap configuration once.
func Ensure(ctx context.Context, client flowcontrolclient.FlowcontrolV1Interface) error {
	var errs []error
	wantedPL := map[string]bool{}
	for _, pl := range bootstrap.MandatoryPriorityLevelConfigurations {
		wantedPL[pl.Name] = true
		errs = append(errs, ensurePL(ctx, client, pl, true))
	}
	for _, pl := range bootstrap.SuggestedPriorityLevelConfigurations {
		wantedPL[pl.Name] = true
		errs = append(errs, ensurePL(ctx, client, pl, false))
	}
	wantedFS := map[string]bool{}
	for _, fs := range bootstrap.MandatoryFlowSchemas {
		wantedFS[fs.Name] = true
		errs = append(errs, ensureFS(ctx, client, fs, true))
	}
	for _, fs := range bootstrap.SuggestedFlowSchemas {
		wantedFS[fs.Name] = true
		errs = append(errs, ensureFS(ctx, client, fs, false))
	}
	errs = append(errs, removeUnwanted(ctx, client, wantedPL, wantedFS))
	return utilerrors.NewAggregate(errs)
}

// autoUpdate says whether an existing suggested object may be rewritten.
func autoUpdate(m metav1.Object) bool {
	if v, err := strconv.ParseBool(m.GetAnnotations()[flowcontrolv1.AutoUpdateAnnotationKey]); err == nil {
		return v
	}
	return m.GetGeneration() == 1
}

// withAnnotation copies the annotations of m with autoupdate-spec set.
func withAnnotation(m metav1.Object, value bool) map[string]string {
	out := map[string]string{}
	for k, v := range m.GetAnnotations() {
		out[k] = v
	}
	out[flowcontrolv1.AutoUpdateAnnotationKey] = strconv.FormatBool(value)
	return out
}

func ensurePL(ctx context.Context, client flowcontrolclient.FlowcontrolV1Interface, want *flowcontrolv1.PriorityLevelConfiguration, mandatory bool) error {
	cur, err := client.PriorityLevelConfigurations().Get(ctx, want.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		obj := want.DeepCopy()
		obj.Annotations = withAnnotation(obj, true)
		_, err = client.PriorityLevelConfigurations().Create(ctx, obj, metav1.CreateOptions{FieldManager: FieldManager})
		if apierrors.IsAlreadyExists(err) {
			return nil
		}
		return wrap(err, "creating", "prioritylevelconfiguration", want.Name)
	}
	if err != nil {
		return wrap(err, "reading", "prioritylevelconfiguration", want.Name)
	}
	update := mandatory || autoUpdate(cur)
	spec := want.Spec
	if mandatory && want.Spec.Type == flowcontrolv1.PriorityLevelEnablementExempt && cur.Spec.Exempt != nil {
		// Users may tune the exempt level's shares and lending.
		spec = *want.Spec.DeepCopy()
		if spec.Exempt == nil {
			spec.Exempt = &flowcontrolv1.ExemptPriorityLevelConfiguration{}
		}
		spec.Exempt.NominalConcurrencyShares = cur.Spec.Exempt.NominalConcurrencyShares
		spec.Exempt.LendablePercent = cur.Spec.Exempt.LendablePercent
	}
	annotations := withAnnotation(cur, update)
	specChanged := update && !apiequality.Semantic.DeepEqual(cur.Spec, spec)
	if !specChanged && apiequality.Semantic.DeepEqual(cur.Annotations, annotations) {
		return nil
	}
	obj := cur.DeepCopy()
	obj.Annotations = annotations
	if update {
		obj.Spec = spec
	}
	_, err = client.PriorityLevelConfigurations().Update(ctx, obj, metav1.UpdateOptions{FieldManager: FieldManager})
	return wrap(err, "updating", "prioritylevelconfiguration", want.Name)
}

func ensureFS(ctx context.Context, client flowcontrolclient.FlowcontrolV1Interface, want *flowcontrolv1.FlowSchema, mandatory bool) error {
	cur, err := client.FlowSchemas().Get(ctx, want.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		obj := want.DeepCopy()
		obj.Annotations = withAnnotation(obj, true)
		_, err = client.FlowSchemas().Create(ctx, obj, metav1.CreateOptions{FieldManager: FieldManager})
		if apierrors.IsAlreadyExists(err) {
			return nil
		}
		return wrap(err, "creating", "flowschema", want.Name)
	}
	if err != nil {
		return wrap(err, "reading", "flowschema", want.Name)
	}
	update := mandatory || autoUpdate(cur)
	annotations := withAnnotation(cur, update)
	specChanged := update && !apiequality.Semantic.DeepEqual(cur.Spec, want.Spec)
	if !specChanged && apiequality.Semantic.DeepEqual(cur.Annotations, annotations) {
		return nil
	}
	obj := cur.DeepCopy()
	obj.Annotations = annotations
	if update {
		obj.Spec = *want.Spec.DeepCopy()
	}
	_, err = client.FlowSchemas().Update(ctx, obj, metav1.UpdateOptions{FieldManager: FieldManager})
	return wrap(err, "updating", "flowschema", want.Name)
}

// removeUnwanted deletes auto-updated objects the bootstrap set no longer has.
func removeUnwanted(ctx context.Context, client flowcontrolclient.FlowcontrolV1Interface, wantedPL, wantedFS map[string]bool) error {
	var errs []error
	fss, err := client.FlowSchemas().List(ctx, metav1.ListOptions{})
	if err != nil {
		return wrap(err, "listing", "flowschemas", "")
	}
	for i := range fss.Items {
		fs := &fss.Items[i]
		if wantedFS[fs.Name] || fs.Annotations[flowcontrolv1.AutoUpdateAnnotationKey] != "true" {
			continue
		}
		err := client.FlowSchemas().Delete(ctx, fs.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{ResourceVersion: &fs.ResourceVersion}})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			errs = append(errs, wrap(err, "deleting", "flowschema", fs.Name))
		}
	}
	pls, err := client.PriorityLevelConfigurations().List(ctx, metav1.ListOptions{})
	if err != nil {
		return wrap(err, "listing", "prioritylevelconfigurations", "")
	}
	for i := range pls.Items {
		pl := &pls.Items[i]
		if wantedPL[pl.Name] || pl.Annotations[flowcontrolv1.AutoUpdateAnnotationKey] != "true" {
			continue
		}
		err := client.PriorityLevelConfigurations().Delete(ctx, pl.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{ResourceVersion: &pl.ResourceVersion}})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			errs = append(errs, wrap(err, "deleting", "prioritylevelconfiguration", pl.Name))
		}
	}
	return utilerrors.NewAggregate(errs)
}

func wrap(err error, verb, kind, name string) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s %s %q: %w", verb, kind, name, err)
}
