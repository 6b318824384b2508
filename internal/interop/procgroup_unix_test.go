//go:build unix

package interop_test

import (
	"os/exec"
	"syscall"
)

// setProcessGroup puts the peer in its own process group, so that stopping
// it also stops anything it started.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

func killProcessGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
