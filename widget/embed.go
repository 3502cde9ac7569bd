// Package widget holds the embeddable chat widget: the loader script a site
// includes, the chat panel that runs in an iframe from Parley's own origin,
// and the demo page. They are plain files with no build step.
package widget

import "embed"

// Files holds the widget's files. loader.js is served at /widget.js and
// counter.js, the opt-in visitor counter, at /counter.js; the
// panel (frame.html, frame.css and its ES modules) under /widget/, with
// frame.html sent under a strict Content-Security-Policy; demo.html at /;
// open.html and open.js are the reopen page of a visitor's mail link.
// sse.js, ids.js, dates.js, dom.js and linkify.js are shared with the console, which
// imports them from /widget/. i18n.js holds the panel's English words and
// loads one catalogue of i18n/ (i18n/de.js, …) for another language.
//
//go:embed loader.js counter.js frame.html frame.js frame.css demo.html open.html open.js
//go:embed store.js transport.js render.js composer.js i18n.js i18n/*.js
//go:embed sse.js ids.js dates.js dom.js linkify.js attach.js attach.css
var Files embed.FS
