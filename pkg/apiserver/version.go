package apiserver

import (
	"runtime"
	"runtime/debug"

	apimachineryversion "k8s.io/apimachinery/pkg/version"
	basecompatibility "k8s.io/component-base/compatibility"
)

// effectiveVersion reports the Kubernetes API version herd serves in
// /version, whatever linker flags the binary was built with.
type effectiveVersion struct {
	basecompatibility.EffectiveVersion
}

func newEffectiveVersion() basecompatibility.EffectiveVersion {
	return effectiveVersion{basecompatibility.NewEffectiveVersionFromString(KubernetesVersion, "", "")}
}

// Info implements basecompatibility.EffectiveVersion.
func (v effectiveVersion) Info() *apimachineryversion.Info {
	info := v.EffectiveVersion.Info()
	info.GitVersion = "v" + KubernetesVersion + "+herd"
	info.GitTreeState = ""
	info.GitCommit = ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				info.GitCommit = s.Value
			case "vcs.time":
				info.BuildDate = s.Value
			case "vcs.modified":
				info.GitTreeState = map[string]string{"true": "dirty", "false": "clean"}[s.Value]
			}
		}
	}
	info.GoVersion = runtime.Version()
	info.Compiler = runtime.Compiler
	info.Platform = runtime.GOOS + "/" + runtime.GOARCH
	return info
}
