package main

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// dropStartPages takes the executable's read-only pages (its code and
// constant data) out of this process's page tables, once the start is done.
//
// Why: the start runs some 240 package inits and registers every route,
// touching code and data all over a 40 MB text and rodata, and the kernel
// maps 64 KB around each page touched (fault-around), so right after start
// ~25 MB of the binary is resident though most of it never runs again. The
// pages stay in the page cache (a cgroup is charged for them either way);
// what changes is that this process no longer holds them, so its RSS shows
// what it uses, and the kernel can reclaim the unused ones without
// unmapping them first. Those still in use fault back in from the page
// cache on their next access (microseconds each). Writable mappings are
// never touched: MADV_DONTNEED on them would lose data.
//
// It returns the bytes of the mappings it dropped.
func dropStartPages() (dropped int64) {
	exe, err := os.Executable()
	if err != nil {
		return 0
	}
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return 0
	}
	defer f.Close()
	// One mapping: a header (address perms offset dev inode path), then its
	// "Key: value kB" lines. Only a read-only mapping of the executable with
	// no anonymous page (none written: a relocated read-only page of a PIE
	// build would be one) is dropped.
	var lo, hi uint64
	candidate := false
	flush := func() {
		if candidate {
			if _, _, e := syscall.Syscall(syscall.SYS_MADVISE, uintptr(lo), uintptr(hi-lo), syscall.MADV_DONTNEED); e == 0 {
				dropped += int64(hi - lo)
			}
		}
		candidate = false
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if !strings.HasSuffix(fields[0], ":") { // a mapping's header
			flush()
			if len(fields) < 6 || fields[5] != exe || strings.ContainsAny(fields[1], "ws") {
				continue
			}
			a, b, ok := strings.Cut(fields[0], "-")
			x, err1 := strconv.ParseUint(a, 16, 64)
			y, err2 := strconv.ParseUint(b, 16, 64)
			if ok && err1 == nil && err2 == nil && y > x {
				lo, hi, candidate = x, y, true
			}
			continue
		}
		if fields[0] == "Anonymous:" && len(fields) > 1 && fields[1] != "0" {
			candidate = false
		}
	}
	flush()
	return dropped
}
