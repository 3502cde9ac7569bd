//go:build !linux

package redistest

import (
	"errors"
	"os"
	"os/exec"
)

// setParentDeath does nothing here: only Linux kills a child with its parent.
func setParentDeath(*exec.Cmd) {}

// stopProcess is Linux only here (StallReplicaOf).
func stopProcess(*os.Process) error     { return errors.New("redistest: stopping a process needs Linux") }
func continueProcess(*os.Process) error { return nil }
