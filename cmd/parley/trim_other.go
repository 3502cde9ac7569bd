//go:build !linux

package main

// dropStartPages does nothing outside Linux (see trim_linux.go).
func dropStartPages() int64 { return 0 }
