// Package shim is the process runtime's container shim: one process per
// container run (`herd container-shim run DIR`) that starts the container,
// writes its output to the CRI log, waits for it and records its exit in
// DIR, outliving the herd server. It also runs commands in a running
// container's context (`herd container-shim exec DIR -- CMD…`). It uses the
// standard library only and runs from its package init, so that starting
// a container costs milliseconds; how runs are laid out, started, adopted
// and reported is the process runtime's business (the parent package).
package shim

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Main is the container shim, run as its own process (`herd
// container-shim <mode> <run dir> …`); it returns the exit status. Modes:
//
//   - run DIR: the shim proper. Started in a new session by the runtime, it
//     starts the container process (in its own process group, cgroups and
//     mount namespace with the volumes bind-mounted), copies its stdout and
//     stderr into the CRI log, waits for it and writes exit.json. It
//     outlives the herd server, so no exit status is lost.
//   - exec DIR -- CMD…: runs CMD in a running container's context (its
//     cgroups, its mount namespace via /proc/<pid>/root, env, workingDir).
func Main(args []string) int {
	if len(args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: container-shim run|exec DIR [-- CMD...]")
		return 2
	}
	dir := args[1]
	switch args[0] {
	case "run":
		return shimRun(dir)
	case "exec":
		rest := args[2:]
		if len(rest) > 0 && rest[0] == "--" {
			rest = rest[1:]
		}
		return shimExec(dir, rest)
	}
	fmt.Fprintf(os.Stderr, "container-shim: unknown mode %q\n", args[0])
	return 2
}

// readyFD is the pipe on which the shim tells the runtime "ok" or
// "error: <message>".
const readyFD = 3

func shimRun(dir string) int {
	// The pipe must not leak into the container: the runtime reads it to EOF.
	syscall.CloseOnExec(readyFD)
	ready := os.NewFile(readyFD, "ready")
	report := func(msg string) {
		if ready != nil {
			_, _ = io.WriteString(ready, msg+"\n")
			ready.Close()
			ready = nil
		}
	}
	signalIgnore()
	// The OOM killer should pick a container, never the shim that records
	// its exit.
	_ = os.WriteFile("/proc/self/oom_score_adj", []byte("-999"), 0o644)
	var spec RunSpec
	if err := ReadJSON(filepath.Join(dir, SpecFile), &spec); err != nil {
		report("error: " + err.Error())
		return 1
	}
	logw, err := openLog(spec.LogPath, spec.LogMaxSize, spec.LogMaxFiles)
	if err != nil {
		report("error: " + err.Error())
		return 1
	}
	defer logw.Close()
	// The container's stdio: a terminal (spec.TTY), or pipes for stdout
	// and stderr and, with spec.Stdin, a pipe for stdin (else /dev/null).
	var (
		cin, cout, cerr *os.File // the container's ends
		outR, errR      *os.File // read by the shim
		master          *os.File
		stdinW          io.WriteCloser
		childEnds       []*os.File
	)
	fail := func(err error) int {
		for _, f := range append(childEnds, outR, errR, master) {
			if f != nil {
				f.Close()
			}
		}
		report("error: " + err.Error())
		return 1
	}
	if spec.TTY {
		m, slave, err := OpenPTY()
		if err != nil {
			return fail(err)
		}
		master, outR = m, m
		cin, cout, cerr = slave, slave, slave
		childEnds = append(childEnds, slave)
		if spec.Stdin {
			stdinW = nopCloser{m}
		}
	} else {
		var outW, errW *os.File
		if outR, outW, err = os.Pipe(); err != nil {
			return fail(err)
		}
		childEnds = append(childEnds, outW)
		if errR, errW, err = os.Pipe(); err != nil {
			return fail(err)
		}
		childEnds = append(childEnds, errW)
		cout, cerr = outW, errW
		if spec.Stdin {
			r, w, err := os.Pipe()
			if err != nil {
				return fail(err)
			}
			cin, stdinW = r, w
		} else if cin, err = os.Open(os.DevNull); err != nil {
			return fail(err)
		}
		childEnds = append(childEnds, cin)
	}
	cmd, err := startContainer(&spec, cin, cout, cerr)
	for _, f := range childEnds {
		f.Close()
	}
	if err != nil {
		RemoveCgroups(spec.Cgroups)
		childEnds = nil
		return fail(err)
	}
	pid := cmd.Process.Pid
	shimStart, _ := ProcStart(os.Getpid())
	cStart, _ := ProcStart(pid)
	st := State{ShimPID: os.Getpid(), ShimStart: shimStart, ContainerPID: pid, ContainerStart: cStart, StartedAt: time.Now()}
	if err := WriteJSON(filepath.Join(dir, StateFile), st); err != nil {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		_ = cmd.Wait()
		RemoveCgroups(spec.Cgroups)
		report("error: " + err.Error())
		return 1
	}
	// kubectl attach: without the socket the container still runs.
	att, err := newAttachServer(dir, stdinW, spec.StdinOnce, master, pid)
	if err != nil {
		fmt.Fprintf(os.Stderr, "container-shim: %v; kubectl attach will not work for this container\n", err)
	}
	report("ok")

	tee := func(r io.Reader, typ byte) io.Reader {
		if att == nil {
			return r
		}
		return io.TeeReader(r, att.output(typ))
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); logw.copyStream("stdout", tee(outR, FrameStdout)) }()
	if errR != nil {
		wg.Add(1)
		go func() { defer wg.Done(); logw.copyStream("stderr", tee(errR, FrameStderr)) }()
	}
	var ws syscall.WaitStatus
	for {
		_, err := syscall.Wait4(pid, &ws, 0, nil)
		if err != syscall.EINTR {
			break
		}
	}
	finished := time.Now()
	// The container ends with its main process: whatever it left behind in
	// its process group or cgroup is killed, as a container runtime does.
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	KillCgroup(spec.Cgroups, syscall.SIGKILL)
	copied := make(chan struct{})
	go func() { wg.Wait(); close(copied) }()
	select {
	case <-copied:
	case <-time.After(2 * time.Second):
		// A process outside the group still holds the pipes; stop reading.
		outR.Close()
		if errR != nil {
			errR.Close()
		}
	}
	if att != nil {
		att.close()
	}
	if stdinW != nil {
		stdinW.Close()
	}
	if master != nil {
		master.Close()
	}
	code, sig := ExitFromWait(ws)
	es := ExitStatus{ExitCode: code, Signal: sig, FinishedAt: finished}
	if len(spec.Cgroups) > 0 && oomKilled(spec.Cgroups[0]) && sig == int(syscall.SIGKILL) {
		es.OOMKilled = true
	}
	if err := WriteJSONDurable(filepath.Join(dir, ExitFile), es); err != nil {
		fmt.Fprintf(os.Stderr, "container-shim: writing exit status: %v\n", err)
	}
	RemoveCgroups(spec.Cgroups)
	return 0
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// signalIgnore keeps the shim alive when the herd server's terminal or
// session goes away.
func signalIgnore() {
	ignoreSignals(syscall.SIGHUP, syscall.SIGINT, syscall.SIGPIPE)
}

func shimExec(dir string, argv []string) int {
	if len(argv) == 0 {
		fmt.Fprintln(os.Stderr, "container-shim exec: no command")
		return 2
	}
	// The command starts with default signal dispositions, whatever the
	// herd server was started with.
	ignoreSignals()
	var spec RunSpec
	var st State
	if err := ReadJSON(filepath.Join(dir, SpecFile), &spec); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 126
	}
	if err := ReadJSON(filepath.Join(dir, StateFile), &st); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 126
	}
	if !SameProcess(st.ContainerPID, st.ContainerStart) {
		fmt.Fprintln(os.Stderr, "container is not running")
		return 126
	}
	if err := joinCgroups(spec.Cgroups); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 126
	}
	if spec.MountNS {
		// /proc/<pid>/root resolves paths in the container's mount
		// namespace: chroot there sees its bind mounts.
		if err := syscall.Chroot("/proc/" + strconv.Itoa(st.ContainerPID) + "/root"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 126
		}
		if err := os.Chdir("/"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 126
		}
	}
	if err := enterDir(spec.Dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 126
	}
	path, err := lookPath(argv[0], spec.Env)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 127
	}
	env := spec.Env
	if os.Getenv(TTYEnv) == "1" && !hasEnv(env, "TERM") {
		// On a terminal, as container runtimes do.
		env = append(env[:len(env):len(env)], "TERM=xterm")
	}
	err = syscall.Exec(path, argv, env)
	fmt.Fprintf(os.Stderr, "exec: %q: %v\n", argv[0], err)
	return 126
}

// TTYEnv tells "container-shim exec" that it runs on a terminal.
const TTYEnv = "HERD_SHIM_TTY"

func hasEnv(env []string, name string) bool {
	for _, kv := range env {
		if strings.HasPrefix(kv, name+"=") {
			return true
		}
	}
	return false
}

// enterDir changes to the container's working directory, creating it when
// missing as runc does.
func enterDir(dir string) error {
	if dir == "" {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating working directory %q: %v", dir, err)
	}
	if err := os.Chdir(dir); err != nil {
		return fmt.Errorf("chdir to cwd (%q) set in config.json failed: %v", dir, err)
	}
	return nil
}

// lookPath finds file in the PATH of env, with runc's error message.
func lookPath(file string, env []string) (string, error) {
	notFound := fmt.Errorf("exec: %q: executable file not found in $PATH", file)
	if strings.Contains(file, "/") {
		fi, err := os.Stat(file)
		if err != nil {
			return "", fmt.Errorf("exec: %q: stat %s: no such file or directory", file, file)
		}
		if fi.IsDir() || fi.Mode()&0o111 == 0 {
			return "", fmt.Errorf("exec: %q: permission denied", file)
		}
		return file, nil
	}
	path := ""
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
		}
	}
	for _, d := range filepath.SplitList(path) {
		if d == "" {
			d = "."
		}
		p := filepath.Join(d, file)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", notFound
}

// bindMount mounts source at target (creating target like source: a
// directory or an empty file), read-only when asked.
func bindMount(source, target string, readOnly bool) error {
	fi, err := os.Stat(source)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		if err := os.MkdirAll(target, 0o755); err != nil {
			return err
		}
	} else {
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		if _, err := os.Stat(target); os.IsNotExist(err) {
			f, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY, 0o644)
			if err != nil {
				return err
			}
			f.Close()
		}
	}
	if err := syscall.Mount(source, target, "", syscall.MS_BIND|syscall.MS_REC, ""); err != nil {
		return err
	}
	if readOnly {
		if err := syscall.Mount("", target, "", syscall.MS_BIND|syscall.MS_REMOUNT|syscall.MS_RDONLY|syscall.MS_REC, ""); err != nil {
			return err
		}
	}
	return nil
}

// startContainer starts the container process. It runs on a thread of its
// own that is thrown away afterwards: that thread unshares its mount
// namespace and bind-mounts the volumes, and the process forked from it
// inherits the namespace. The shim joins the run's cgroups just long enough
// for the fork, so the container is in them before its first instruction.
func startContainer(spec *RunSpec, stdin, stdout, stderr *os.File) (*exec.Cmd, error) {
	type result struct {
		cmd *exec.Cmd
		err error
	}
	ch := make(chan result, 1)
	go func() {
		// Never unlocked: the thread ends with this goroutine, taking its
		// mount namespace along.
		goruntime.LockOSThread()
		cmd, err := startOnThisThread(spec, stdin, stdout, stderr)
		ch <- result{cmd, err}
	}()
	r := <-ch
	return r.cmd, r.err
}

func startOnThisThread(spec *RunSpec, stdin, stdout, stderr *os.File) (*exec.Cmd, error) {
	if spec.MountNS {
		if err := syscall.Unshare(syscall.CLONE_NEWNS); err != nil {
			return nil, fmt.Errorf("creating the mount namespace: %v", err)
		}
		if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
			return nil, fmt.Errorf("making / private: %v", err)
		}
		if spec.Hostname != "" {
			if err := syscall.Unshare(syscall.CLONE_NEWUTS); err != nil {
				return nil, fmt.Errorf("creating the UTS namespace: %v", err)
			}
			if err := syscall.Sethostname([]byte(spec.Hostname)); err != nil {
				return nil, fmt.Errorf("setting the hostname: %v", err)
			}
		}
		for _, m := range spec.Mounts {
			if err := bindMount(m.Source, m.Target, m.ReadOnly); err != nil {
				return nil, fmt.Errorf("mounting %q to %q: %v", m.Source, m.Target, err)
			}
		}
		// After the volumes, whose sources may lie below a masked path.
		for _, p := range spec.MaskPaths {
			if fi, err := os.Stat(p); err != nil || !fi.IsDir() {
				continue
			}
			if err := syscall.Mount("tmpfs", p, "tmpfs", syscall.MS_RDONLY|syscall.MS_NOSUID|syscall.MS_NODEV|syscall.MS_NOEXEC, "size=4k,mode=0700"); err != nil {
				return nil, fmt.Errorf("masking %q: %v", p, err)
			}
		}
	}
	if spec.Dir != "" {
		if err := os.MkdirAll(spec.Dir, 0o755); err != nil {
			return nil, fmt.Errorf("creating working directory %q: %v", spec.Dir, err)
		}
	}
	path, err := lookPath(spec.Args[0], spec.Env)
	if err != nil {
		return nil, err
	}
	cmd := &exec.Cmd{
		Path: path, Args: spec.Args, Env: spec.Env, Dir: spec.Dir,
		Stdin: stdin, Stdout: stdout, Stderr: stderr,
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true},
	}
	if spec.TTY {
		// A session of its own with the terminal as its controlling one.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	}
	if err := joinCgroups(spec.Cgroups); err != nil {
		leaveCgroups(spec.Cgroups)
		return nil, err
	}
	err = cmd.Start()
	leaveCgroups(spec.Cgroups)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("exec: %q: %v", spec.Args[0], pe.Err)
		}
		return nil, err
	}
	return cmd, nil
}

// CommandName is the herd subcommand that runs the shim: `herd
// container-shim run DIR`.
const CommandName = "container-shim"

// The shim runs from this package's init. This package needs only the
// standard library, so Go initializes it before most of herd's packages
// (about 180 of 580 come first, mostly protobuf descriptors, for about 20
// ms): a container start does not pay for the API machinery's
// initialization (about 70 ms of CPU otherwise).
func init() {
	if len(os.Args) > 1 && os.Args[1] == CommandName {
		os.Exit(Main(os.Args[2:]))
	}
}
