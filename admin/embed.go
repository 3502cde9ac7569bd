// Package admin holds the admin console: a single page with plain JavaScript
// modules and one stylesheet, no build step.
package admin

import "embed"

// Files are the console's static files, served under /admin/ (index.html at
// /admin/). The server must send them with a strict Content-Security-Policy:
// the page uses no inline script or style.
//
//go:embed index.html style.css favicon.svg *.js
var Files embed.FS
