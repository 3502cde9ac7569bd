/*
 * Parley visitor counter, served at /counter.js. Opt-in and separate from the
 * chat loader (which makes no request before the visitor clicks):
 *
 *   <script src="https://chat.example.com/counter.js" data-count="page" async></script>
 *   <span data-parley-count="today"></span> views today
 *
 * data-count="page"  count this page view (without it the script only shows
 *                    the counts)
 * data-spa           also count history navigations (pushState, replaceState,
 *                    popstate) to a path not counted last
 * data-respect-dnt   count nothing when navigator.globalPrivacyControl or Do
 *                    Not Track is on (the counts are still shown)
 * data-path="/x"     count this path instead of location.pathname
 *
 * Elements with data-parley-count="today", "total" or "visitors" get the
 * number, formatted for the page's language. One request per view: the POST
 * that counts answers the new counts. No cookie, no storage, no visitor id:
 * the server tells visitors apart by a daily salted hash of IP and browser.
 * The body goes as text/plain, so the request is a simple CORS request with
 * no preflight, and keepalive lets it finish when the page is being left.
 */
(function () {
  'use strict';

  const d = document;
  const w = window;
  const nav = navigator;
  const script = d.currentScript || d.querySelector('script[src*="/counter.js"]');
  if (!script || !w.fetch) return;
  const data = script.dataset;
  let api;
  try {
    api = new URL('/api/v1/visits', script.src).href;
  } catch (e) {
    return;
  }
  /* The counts' names in the API's answer, by the value of data-parley-count. */
  const FIELDS = { today: 'today', total: 'total', visitors: 'visitorsToday' };
  const counting = data.count === 'page' &&
    !(data.respectDnt != null && (nav.globalPrivacyControl === true ||
      (nav.doNotTrack || w.doNotTrack) === '1'));
  let here = null; /* the location.pathname counted last */
  let counts = null;

  /**
   * Writes the counts into every data-parley-count element of the page.
   */
  function fill() {
    if (!counts) return;
    let fmt;
    try {
      fmt = new Intl.NumberFormat(d.documentElement.lang || nav.language);
    } catch (e) { // a malformed lang attribute
      fmt = new Intl.NumberFormat();
    }
    d.querySelectorAll('[data-parley-count]').forEach(function (el) {
      const n = counts[FIELDS[el.getAttribute('data-parley-count')]];
      if (typeof n === 'number') el.textContent = fmt.format(n);
    });
  }

  /**
   * Counts a view of path (or, without one, only reads the counts), then
   * fills the page in. A refused or failed request leaves the elements as
   * the page wrote them.
   * @param {string} [path]
   */
  function request(path) {
    const init = { credentials: 'omit' };
    if (path) {
      init.method = 'POST';
      init.body = JSON.stringify({ path: path.slice(0, 1024) });
      init.keepalive = true;
    }
    fetch(api, init)
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (c) {
        if (c) {
          counts = c;
          fill();
        }
      })
      .catch(function () {});
  }

  /**
   * Counts the current page: the first view, then each navigation of a
   * single-page app to another path than the last one counted (a router's
   * replaceState of the same path, or a change of query only, is not a view).
   */
  function view() {
    const path = location.pathname;
    if (path === here) return;
    const first = here === null;
    here = path;
    request((first && data.path) || path);
  }

  if (counting) {
    view();
    if (data.spa != null) {
      const h = w.history;
      ['pushState', 'replaceState'].forEach(function (m) {
        const orig = h[m];
        h[m] = function () {
          const r = orig.apply(this, arguments);
          view();
          return r;
        };
      });
      w.addEventListener('popstate', view);
    }
  }

  /* An async script may run before the page is parsed: its elements may come later. */
  function ready() {
    if (counting) fill();
    else if (d.querySelector('[data-parley-count]')) request();
  }
  if (d.readyState === 'loading') d.addEventListener('DOMContentLoaded', ready);
  else ready();
})();
