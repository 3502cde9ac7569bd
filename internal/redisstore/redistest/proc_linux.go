package redistest

import (
	"os"
	"os/exec"
	"syscall"
)

// setParentDeath has the kernel kill the child when the test binary dies
// (a timeout's panic, a SIGKILL), so no redis-server outlives its test.
func setParentDeath(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// stopProcess and continueProcess stop and resume a process (SIGSTOP,
// SIGCONT).
func stopProcess(p *os.Process) error     { return p.Signal(syscall.SIGSTOP) }
func continueProcess(p *os.Process) error { return p.Signal(syscall.SIGCONT) }
