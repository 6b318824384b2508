//go:build !unix

package testpeer

import (
	"os"
	"os/exec"
)

type stopSignal = os.Signal

var (
	stopTerm stopSignal = os.Kill
	stopQuit stopSignal = os.Kill
)

// setGroup does nothing here: process groups are a unix notion.
func setGroup(*exec.Cmd) {}

func signalGroup(cmd *exec.Cmd, sig stopSignal) { _ = cmd.Process.Signal(sig) }

func killGroup(cmd *exec.Cmd) { _ = cmd.Process.Kill() }
