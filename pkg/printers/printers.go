package printers

import (
	"context"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/apiserver/pkg/registry/rest"
)

// rowFunc renders one object (never a list) into a table row. now is the
// instant ages and durations are measured against.
type rowFunc func(obj runtime.Object, now time.Time) (metav1.TableRow, error)

// printer is the column set and row renderer of one resource.
type printer struct {
	columns []metav1.TableColumnDefinition
	row     rowFunc
}

// printers maps each resource with specific columns to its printer.
var printers = map[schema.GroupResource]printer{}

func register(gr schema.GroupResource, columns []metav1.TableColumnDefinition, row rowFunc) {
	if _, dup := printers[gr]; dup {
		panic(fmt.Sprintf("printers: duplicate printer for %s", gr))
	}
	printers[gr] = printer{columns: columns, row: row}
}

// For returns the table convertor for a resource, e.g.
// schema.GroupResource{Group: "batch", Resource: "jobs"}. Resources with no
// specific columns get the API server's default convertor
// (rest.NewDefaultTableConvertor: NAME and CREATED AT), which is what a
// Kubernetes API server serves for resources it has no printer for.
func For(gr schema.GroupResource) rest.TableConvertor {
	return ForWithClock(gr, time.Now)
}

// ForWithClock is For with the clock that ages and durations are measured
// against; tests pass a fixed one.
func ForWithClock(gr schema.GroupResource, now func() time.Time) rest.TableConvertor {
	p, ok := printers[gr]
	if !ok {
		return rest.NewDefaultTableConvertor(gr)
	}
	if now == nil {
		now = time.Now
	}
	return &convertor{resource: gr, printer: p, now: now}
}

type convertor struct {
	resource schema.GroupResource
	printer  printer
	now      func() time.Time
}

var _ rest.TableConvertor = &convertor{}

// ConvertToTable renders obj, a single object or a list, as a table. Like the
// Kubernetes server it always includes the priority 1 (wide) cells; column
// definitions are left out when tableOptions asks for no headers.
func (c *convertor) ConvertToTable(_ context.Context, obj runtime.Object, tableOptions runtime.Object) (*metav1.Table, error) {
	noHeaders := false
	if tableOptions != nil {
		switch t := tableOptions.(type) {
		case *metav1.TableOptions:
			if t != nil {
				noHeaders = t.NoHeaders
			}
		default:
			return nil, fmt.Errorf("unrecognized type %T for table options, can't display tabular output", tableOptions)
		}
	}

	now := c.now()
	table := &metav1.Table{Rows: []metav1.TableRow{}}
	add := func(item runtime.Object) error {
		row, err := c.printer.row(item, now)
		if err != nil {
			return err
		}
		table.Rows = append(table.Rows, row)
		return nil
	}
	if meta.IsListType(obj) {
		if err := meta.EachListItem(obj, add); err != nil {
			return nil, err
		}
	} else if err := add(obj); err != nil {
		return nil, err
	}

	if l, err := meta.ListAccessor(obj); err == nil {
		table.ResourceVersion = l.GetResourceVersion()
		table.Continue = l.GetContinue()
		table.RemainingItemCount = l.GetRemainingItemCount()
	} else if m, err := meta.CommonAccessor(obj); err == nil {
		table.ResourceVersion = m.GetResourceVersion()
	}
	if !noHeaders {
		table.ColumnDefinitions = append([]metav1.TableColumnDefinition(nil), c.printer.columns...)
	}
	return table, nil
}

// typed adapts a renderer of one concrete type to a rowFunc; the renderer
// returns the cells (and optionally row conditions) and typed fills in Object.
func typed[T runtime.Object](render func(obj T, now time.Time) ([]interface{}, []metav1.TableRowCondition)) rowFunc {
	return func(obj runtime.Object, now time.Time) (metav1.TableRow, error) {
		t, ok := obj.(T)
		if !ok {
			return metav1.TableRow{}, fmt.Errorf("no table handler registered for this type %T", obj)
		}
		cells, conditions := render(t, now)
		return metav1.TableRow{Cells: cells, Conditions: conditions, Object: runtime.RawExtension{Object: obj}}, nil
	}
}

// cells is a shorthand for renderers without row conditions.
func cells(c ...interface{}) ([]interface{}, []metav1.TableRowCondition) {
	return c, nil
}

// Column definition helpers.

var objectMetaDoc = metav1.ObjectMeta{}.SwaggerDoc()

func nameColumn() metav1.TableColumnDefinition {
	return metav1.TableColumnDefinition{Name: "Name", Type: "string", Format: "name", Description: objectMetaDoc["name"]}
}

func ageColumn() metav1.TableColumnDefinition {
	return column("Age", "string", objectMetaDoc["creationTimestamp"])
}

func column(name, typ, description string) metav1.TableColumnDefinition {
	return metav1.TableColumnDefinition{Name: name, Type: typ, Description: description}
}

func wide(c metav1.TableColumnDefinition) metav1.TableColumnDefinition {
	c.Priority = 1
	return c
}

func containersColumn() metav1.TableColumnDefinition {
	return wide(column("Containers", "string", "Names of each container in the template."))
}

func imagesColumn() metav1.TableColumnDefinition {
	return wide(column("Images", "string", "Images referenced by each container in the template."))
}

// Cell helpers.

// since is the age of t at now in Kubernetes' human format, "<unknown>" when t
// is unset.
func since(t metav1.Time, now time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(now.Sub(t.Time))
}

func sinceMicro(t metav1.MicroTime, now time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(now.Sub(t.Time))
}

func boolPtr(b *bool) string {
	switch {
	case b == nil:
		return "<unset>"
	case *b:
		return "True"
	default:
		return "False"
	}
}

func int32Value(p *int32) int32 {
	if p == nil {
		return 0
	}
	return *p
}

// listWithMore joins up to max entries of list and notes how many of count
// were left out; "<unset>" when there is nothing.
func listWithMore(list []string, count, max int) string {
	s := strings.Join(list, ",")
	if count > max {
		return fmt.Sprintf("%s + %d more...", s, count-max)
	}
	if s == "" {
		return "<unset>"
	}
	return s
}
