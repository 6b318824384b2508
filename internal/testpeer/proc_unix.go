//go:build unix

package testpeer

import (
	"os/exec"
	"syscall"
)

type stopSignal = syscall.Signal

const (
	stopTerm = syscall.SIGTERM // redis-server
	stopQuit = syscall.SIGQUIT // nginx: graceful shutdown
)

// setGroup puts the peer in its own process group, so that stopping it
// reaches any child it forks.
func setGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

func signalGroup(cmd *exec.Cmd, sig stopSignal) {
	_ = syscall.Kill(-cmd.Process.Pid, sig)
}

func killGroup(cmd *exec.Cmd) {
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
}
