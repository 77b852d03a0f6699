package scheme

import (
	"fmt"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/conversion"
	"k8s.io/apimachinery/pkg/runtime"
)

// addQueryConversions lets the parameter codec decode the pod subresource
// options (?follow=true&tailLines=10, ?command=sh&command=-c …) from query
// parameters, by the fields' JSON names, as Kubernetes' generated
// conversions do.
func addQueryConversions(s *runtime.Scheme) error {
	for _, obj := range []runtime.Object{&corev1.PodLogOptions{}, &corev1.PodExecOptions{}, &corev1.PodAttachOptions{},
		&corev1.PodPortForwardOptions{}, &corev1.PodProxyOptions{}, &corev1.NodeProxyOptions{}, &corev1.ServiceProxyOptions{}} {
		if err := s.AddConversionFunc((*url.Values)(nil), obj, func(a, b interface{}, _ conversion.Scope) error {
			return DecodeQuery(*a.(*url.Values), b)
		}); err != nil {
			return err
		}
	}
	return nil
}

var timeType = reflect.TypeOf(metav1.Time{})

// DecodeQuery fills the struct out points to from query values, matching
// fields by their JSON names. Scalars take the last value; slices take all.
func DecodeQuery(values url.Values, out interface{}) error {
	v := reflect.ValueOf(out).Elem()
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := strings.Split(f.Tag.Get("json"), ",")[0]
		if name == "" || name == "-" || f.Anonymous {
			continue
		}
		vals, ok := values[name]
		if !ok || len(vals) == 0 {
			continue
		}
		if err := setField(v.Field(i), vals); err != nil {
			return fmt.Errorf("query parameter %q: %w", name, err)
		}
	}
	return nil
}

func setField(fv reflect.Value, vals []string) error {
	last := vals[len(vals)-1]
	if fv.Kind() == reflect.Pointer {
		nv := reflect.New(fv.Type().Elem())
		if err := setField(nv.Elem(), vals); err != nil {
			return err
		}
		fv.Set(nv)
		return nil
	}
	if fv.Type() == timeType {
		ts, err := time.Parse(time.RFC3339, last)
		if err != nil {
			return err
		}
		fv.Set(reflect.ValueOf(metav1.NewTime(ts)))
		return nil
	}
	switch fv.Kind() {
	case reflect.String:
		fv.SetString(last)
	case reflect.Bool:
		b := last == "" || strings.EqualFold(last, "true") || last == "1"
		if !b && !strings.EqualFold(last, "false") && last != "0" {
			return fmt.Errorf("%q is not a boolean", last)
		}
		fv.SetBool(b)
	case reflect.Int, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(last, 10, fv.Type().Bits())
		if err != nil {
			return err
		}
		fv.SetInt(n)
	case reflect.Slice:
		s := reflect.MakeSlice(fv.Type(), 0, len(vals))
		for _, one := range vals {
			e := reflect.New(fv.Type().Elem()).Elem()
			if err := setField(e, []string{one}); err != nil {
				return err
			}
			s = reflect.Append(s, e)
		}
		fv.Set(s)
	default:
		return fmt.Errorf("unsupported kind %s", fv.Kind())
	}
	return nil
}
