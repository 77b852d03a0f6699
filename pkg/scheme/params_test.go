package scheme

import (
	"net/url"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestDecodePodLogOptions(t *testing.T) {
	q := url.Values{"container": {"c1"}, "follow": {"true"}, "tailLines": {"10"}, "sinceSeconds": {"30"},
		"timestamps": {"true"}, "previous": {"false"}, "sinceTime": {"2026-11-23T10:00:00Z"}}
	var o corev1.PodLogOptions
	if err := ParameterCodec.DecodeParameters(q, corev1.SchemeGroupVersion, &o); err != nil {
		t.Fatal(err)
	}
	if o.Container != "c1" || !o.Follow || o.Previous || !o.Timestamps || o.TailLines == nil || *o.TailLines != 10 ||
		o.SinceSeconds == nil || *o.SinceSeconds != 30 || o.SinceTime == nil || o.SinceTime.Year() != 2026 {
		t.Fatalf("decoded %+v", o)
	}
	if err := ParameterCodec.DecodeParameters(url.Values{"tailLines": {"x"}}, corev1.SchemeGroupVersion, &o); err == nil {
		t.Fatal("bad tailLines accepted")
	}
}

func TestDecodeExecOptionsCommand(t *testing.T) {
	var o corev1.PodExecOptions
	q := url.Values{"command": {"sh", "-c", "echo hi"}, "stdout": {"true"}, "container": {"app"}}
	if err := ParameterCodec.DecodeParameters(q, corev1.SchemeGroupVersion, &o); err != nil {
		t.Fatal(err)
	}
	if len(o.Command) != 3 || o.Command[2] != "echo hi" || !o.Stdout || o.Stdin || o.Container != "app" {
		t.Fatalf("decoded %+v", o)
	}
}
