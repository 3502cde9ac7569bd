//go:build !linux

package redistest

import "os/exec"

// setParentDeath does nothing here: only Linux kills a child with its parent.
func setParentDeath(*exec.Cmd) {}
