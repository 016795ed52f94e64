// Package slurmtest runs a private Slurm cluster for tests, from Debian's
// slurm-wlm and munge: its own munge key and socket, slurmctld and slurmd
// on free ports, every state, spool, pid and log file in a temporary
// folder, torn down by pid at the test's end. One node runs on loopback;
// with Nodes: 2 each slurmd runs in a network namespace of its own, joined
// to the host by a veth pair on a private link (TwoNodes).
//
// Commands (sbatch, squeue, scontrol) find the cluster through the
// SLURM_CONF environment variable: Env, or Setenv for a test.
//
// Without Slurm installed, tests fail when the CI environment variable is
// set and skip with a message otherwise; scripts/test installs it. The
// daemons run as root (SlurmUser=root), as Slurm's own tests do: a cluster
// started by another user is skipped the same way.
package slurmtest

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// T is what Start needs of a test; *testing.T and *testing.B have it, and
// a command (a benchmark) can provide it.
type T interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	Skip(args ...any)
	Cleanup(func())
	Logf(format string, args ...any)
}

var _ T = testing.TB(nil)

// Options shape the cluster.
type Options struct {
	CPUs int // per node; 0: 2
	// Nodes is 1 (on loopback) or 2 (each in its own network namespace).
	Nodes int
}

// Cluster is a running Slurm cluster.
type Cluster struct {
	Dir   string   // holds the configuration, state, spool and logs
	Conf  string   // slurm.conf
	Nodes []string // node names, in the partition "debug"

	procs []*os.Process // munged, slurmctld, slurmds: stopped in reverse
	undo  []func()      // network namespaces and links to remove
}

// startTimeout bounds the wait for the nodes to be idle.
const startTimeout = 60 * time.Second

// Start starts a cluster for the test and stops it at the test's end.
func Start(t T, o Options) *Cluster {
	t.Helper()
	if o.CPUs == 0 {
		o.CPUs = 2
	}
	if o.Nodes == 0 {
		o.Nodes = 1
	}
	requireSlurm(t, o.Nodes > 1)
	dir, err := os.MkdirTemp("", "slurmtest-")
	if err != nil {
		t.Fatalf("slurmtest: %v", err)
	}
	// Slurm's daemons and job steps run as root but the test's files may
	// be written by jobs as any user: keep the folder open to all.
	os.Chmod(dir, 0o755)
	c := &Cluster{Dir: dir, Conf: filepath.Join(dir, "slurm.conf")}
	t.Cleanup(func() {
		c.stop()
		os.RemoveAll(dir)
	})
	if err := c.start(o); err != nil {
		t.Fatalf("slurmtest: %v\n%s", err, c.logTail())
	}
	return c
}

// requireSlurm skips (or, in CI, fails) when the cluster cannot run here.
func requireSlurm(t T, netns bool) {
	t.Helper()
	var missing []string
	for _, bin := range []string{"munged", "slurmctld", "slurmd", "sbatch", "squeue", "scontrol", "sinfo"} {
		if _, err := exec.LookPath(bin); err != nil {
			missing = append(missing, bin)
		}
	}
	if netns {
		for _, bin := range []string{"ip", "nsenter", "unshare"} {
			if _, err := exec.LookPath(bin); err != nil {
				missing = append(missing, bin)
			}
		}
	}
	msg := ""
	switch {
	case len(missing) > 0:
		msg = fmt.Sprintf("slurmtest: %s not installed (apt-get install slurm-wlm munge iproute2; scripts/test does it)", strings.Join(missing, ", "))
	case os.Geteuid() != 0:
		msg = "slurmtest: the private Slurm cluster runs its daemons as root (SlurmUser=root); run the tests as root"
	}
	if msg == "" {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// Env is the process environment with SLURM_CONF naming the cluster.
func (c *Cluster) Env() []string {
	return append(os.Environ(), "SLURM_CONF="+c.Conf)
}

// Setenv points the Slurm commands the test runs (and the processes it
// starts) at the cluster, for the rest of the test.
func (c *Cluster) Setenv(t interface{ Setenv(k, v string) }) { t.Setenv("SLURM_CONF", c.Conf) }

func (c *Cluster) path(name string) string { return filepath.Join(c.Dir, name) }

func (c *Cluster) start(o Options) error {
	for _, d := range []string{"state", "munge", "log"} {
		if err := os.MkdirAll(c.path(d), 0o755); err != nil {
			return err
		}
	}
	if err := c.startMunge(); err != nil {
		return err
	}
	ports, err := freePorts(2)
	if err != nil {
		return err
	}
	ctlHost, ctlAddr := "localhost", "127.0.0.1"
	type node struct{ name, addr, ns string }
	var nodes []node
	if o.Nodes == 1 {
		nodes = []node{{"localhost", "127.0.0.1", ""}}
	} else {
		// slurmctld on the host's end of the links; it must be named by
		// the host's real name in a multi-node configuration.
		if ctlHost, err = os.Hostname(); err != nil {
			return err
		}
		addrs, err := c.makeNamespaces(o.Nodes)
		if err != nil {
			return err
		}
		ctlAddr = addrs.host
		for i, a := range addrs.nodes {
			nodes = append(nodes, node{fmt.Sprintf("node%d", i+1), a, addrs.ns[i]})
		}
	}
	var nodeLines, names []string
	for _, n := range nodes {
		nodeLines = append(nodeLines, fmt.Sprintf("NodeName=%s NodeAddr=%s NodeHostname=%s CPUs=%d RealMemory=1000 Port=%d",
			n.name, n.addr, n.name, o.CPUs, ports[1]))
		names = append(names, n.name)
		if err := os.MkdirAll(c.path("spool-"+n.name), 0o755); err != nil {
			return err
		}
		if err := os.MkdirAll(c.path("tmp-"+n.name), 0o1777); err != nil {
			return err
		}
	}
	c.Nodes = names
	conf := fmt.Sprintf(`ClusterName=hepsqltest
SlurmctldHost=%[2]s(%[3]s)
SlurmctldPort=%[4]d
SlurmdPort=%[5]d
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=%[1]s/munge/munge.socket
StateSaveLocation=%[1]s/state
SlurmdSpoolDir=%[1]s/spool-%%n
SlurmctldPidFile=%[1]s/slurmctld.pid
SlurmdPidFile=%[1]s/slurmd-%%n.pid
SlurmctldLogFile=%[1]s/log/slurmctld.log
SlurmdLogFile=%[1]s/log/slurmd-%%n.log
TmpFS=%[1]s/tmp-%%n
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=%[1]s/log/jobcomp.txt
SchedulerType=sched/builtin
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
SlurmctldTimeout=10
SlurmdTimeout=30
MinJobAge=600
%[6]s
PartitionName=debug Nodes=%[7]s Default=YES MaxTime=INFINITE State=UP
`, c.Dir, ctlHost, ctlAddr, ports[0], ports[1], strings.Join(nodeLines, "\n"), strings.Join(names, ","))
	if err := os.WriteFile(c.Conf, []byte(conf), 0o644); err != nil {
		return err
	}
	// -i: ignore any saved state (there is none); -D would keep it in the
	// foreground, but then its pid is ours to wait on: daemonising loses it,
	// so run it in the foreground under our own process.
	if err := c.spawn("slurmctld", nil, "slurmctld", "-D", "-i", "-f", c.Conf); err != nil {
		return err
	}
	for _, n := range nodes {
		var prefix []string
		if n.ns != "" {
			// nsenter, not ip netns exec: that remounts /sys, and slurmd then
			// fails on cgroups. The nodes share the host's files (the test's
			// folders are their shared file system); each has its own TmpFS.
			prefix = []string{"nsenter", "--net=/run/netns/" + n.ns}
		}
		if err := c.spawn("slurmd-"+n.name, prefix, "slurmd", "-D", "-f", c.Conf, "-N", n.name); err != nil {
			return err
		}
	}
	return c.waitIdle(len(nodes))
}

// startMunge starts a munged with its own key, socket and pid file.
func (c *Cluster) startMunge() error {
	key := make([]byte, 1024)
	rand.Read(key)
	keyFile := c.path("munge/munge.key")
	if err := os.WriteFile(keyFile, key, 0o400); err != nil {
		return err
	}
	return c.spawn("munged", nil, "munged", "--foreground", "--force", "--key-file="+keyFile,
		"--socket="+c.path("munge/munge.socket"), "--pid-file="+c.path("munge/munged.pid"),
		"--log-file="+c.path("log/munged.log"), "--seed-file="+c.path("munge/munged.seed"))
}

// spawn starts a daemon in the foreground, its output in log/NAME.out.
func (c *Cluster) spawn(name string, prefix []string, bin string, args ...string) error {
	argv := append(append(prefix, bin), args...)
	out, err := os.Create(c.path("log/" + name + ".out"))
	if err != nil {
		return err
	}
	defer out.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = append(os.Environ(), "SLURM_CONF="+c.Conf)
	// Its own process group, so that stop reaches whatever it forks.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", name, err)
	}
	c.procs = append(c.procs, cmd.Process)
	go cmd.Wait() // reap it when it ends
	return nil
}

// waitIdle waits until sinfo shows every node idle.
func (c *Cluster) waitIdle(nodes int) error {
	deadline := time.Now().Add(startTimeout)
	var last string
	for time.Now().Before(deadline) {
		out, _ := c.Command("sinfo", "-h", "-N", "-o", "%N %t").CombinedOutput()
		last = strings.TrimSpace(string(out))
		idle := 0
		for _, l := range strings.Split(last, "\n") {
			if strings.HasSuffix(l, " idle") {
				idle++
			}
		}
		if idle == nodes {
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("the nodes are not idle after %v: sinfo says %q", startTimeout, last)
}

// Command is a Slurm command (sbatch, squeue, ...) run against the cluster.
func (c *Cluster) Command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Env = c.Env()
	return cmd
}

// stop ends every daemon by its process group, newest first, then removes
// the namespaces.
func (c *Cluster) stop() {
	for i := len(c.procs) - 1; i >= 0; i-- {
		p := c.procs[i]
		syscall.Kill(-p.Pid, syscall.SIGTERM)
		if !waitGone(p.Pid, 5*time.Second) {
			syscall.Kill(-p.Pid, syscall.SIGKILL)
			waitGone(p.Pid, 2*time.Second)
		}
	}
	c.procs = nil
	for i := len(c.undo) - 1; i >= 0; i-- {
		c.undo[i]()
	}
	c.undo = nil
}

// waitGone waits for a process to end (Wait reaps it in its goroutine).
func waitGone(pid int, d time.Duration) bool {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if syscall.Kill(pid, 0) != nil {
			return true
		}
	}
	return false
}

// logTail is the end of every log, for a failure's message.
func (c *Cluster) logTail() string {
	var b bytes.Buffer
	files, _ := filepath.Glob(c.path("log/*"))
	for _, f := range files {
		data, _ := os.ReadFile(f)
		if len(data) > 2000 {
			data = data[len(data)-2000:]
		}
		fmt.Fprintf(&b, "--- %s\n%s\n", filepath.Base(f), data)
	}
	return b.String()
}

// freePorts returns n distinct free TCP ports.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "0.0.0.0:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
