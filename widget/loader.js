/*
 * Parley widget loader, served at /widget.js.
 *
 *   <script src="https://chat.example.com/widget.js" data-title="Acme support" async></script>
 *
 * A classic script with one global, window.Parley (calls made through a queue
 * stub before it loads are replayed). Until the visitor opens the chat it only
 * draws a button inside its own shadow root: no request, no cookie, no storage.
 * The conversation runs in an iframe from Parley's own origin
 * (/widget/frame.html), so the visitor token never reaches this page; the two
 * talk by postMessage with the exact origin named and checked on both sides.
 */
(function () {
  'use strict';

  const w = window;
  const d = document;
  const stub = w.Parley;
  if (stub && stub.loaded) return;

  const script = d.currentScript || d.querySelector('script[src*="/widget.js"]');
  const data = (script && script.dataset) || {};
  let origin;
  try {
    origin = new URL(data.origin || script.src).origin;
  } catch (e) {
    return;
  }
  const color = /^#([0-9a-f]{3}){1,2}$/i.test(data.color || '') ? data.color : '#4f46e5';

  /*
   * The button's own words (the frame's catalogues, widget/i18n/, hold the
   * rest): the frame's name, open, close, unread. The language is
   * data-locale, else the browser's first that has words here; the frame is
   * told which, and chooses the same way.
   */
  const WORDS = {
    en: ['Chat', 'Open chat', 'Close chat', '{n} unread'],
    de: ['Chat', 'Chat öffnen', 'Chat schließen', '{n} ungelesen'],
    fr: ['Chat', 'Ouvrir le chat', 'Fermer le chat', 'non lus : {n}'],
    es: ['Chat', 'Abrir el chat', 'Cerrar el chat', '{n} sin leer'],
    pt: ['Chat', 'Abrir o chat', 'Fechar o chat', 'não lidas: {n}'],
    it: ['Chat', 'Apri la chat', 'Chiudi la chat', 'non letti: {n}'],
    nl: ['Chat', 'Chat openen', 'Chat sluiten', '{n} ongelezen'],
    ko: ['채팅', '채팅 열기', '채팅 닫기', '읽지 않은 메시지 {n}개'],
    ja: ['チャット', 'チャットを開く', 'チャットを閉じる', '未読 {n} 件'],
    zh: ['聊天', '打开聊天', '关闭聊天', '{n} 条未读'],
    ar: ['دردشة', 'افتح الدردشة', 'أغلق الدردشة', 'غير مقروءة: {n}'],
  };
  /**
   * @param {string} tag a language tag
   * @returns {string} its key in WORDS by primary subtag, '' for none or Traditional Chinese
   */
  function match(tag) {
    tag = String(tag || '').toLowerCase().replace(/_/g, '-');
    const l = tag.split('-')[0];
    return /^zh-(hant|tw|hk|mo)\b/.test(tag) || !WORDS[l] ? '' : l;
  }
  const locale = data.locale ? match(data.locale) || 'en'
    : (w.navigator.languages || [w.navigator.language]).map(match).filter(Boolean)[0] || 'en';
  /* The owner's texts: data-texts (JSON) and data-text-<key>, which win. */
  let texts = {};
  try {
    const j = JSON.parse(data.texts || '{}');
    if (j && typeof j === 'object' && !Array.isArray(j)) texts = j;
  } catch (e) { /* ignored, as the frame ignores it */ }
  Object.keys(data).forEach(function (k) {
    if (/^text[A-Z]/.test(k)) texts[k[4].toLowerCase() + k.slice(5)] = data[k];
  });
  /**
   * The button's word i of WORDS, or the owner's text for key.
   * @param {number} i
   * @param {string} key
   * @returns {string}
   */
  function word(i, key) {
    return typeof texts[key] === 'string' ? texts[key] : WORDS[locale][i];
  }
  const left = data.position === 'left';
  const mobile = w.matchMedia('(max-width: 480px)');
  /* sessionStorage key; written only once the visitor has opened the chat. */
  const KEY = 'parley';

  const handlers = {};
  let frame = null;
  let ready = false;
  let queue = [];
  let isOpen = false;
  let focusWanted = false;
  let unread = 0;
  let identity = null;

  /**
   * Picks black or white text for the accent colour.
   * @param {string} hex #rgb or #rrggbb
   * @returns {string}
   */
  function ink(hex) {
    let h = hex.slice(1);
    if (h.length === 3) h = h.replace(/./g, '$&$&');
    const n = parseInt(h, 16);
    const y = 0.299 * (n >> 16) + 0.587 * ((n >> 8) & 255) + 0.114 * (n & 255);
    return y > 160 ? '#111' : '#fff';
  }

  const CSS =
    ':host{all:initial!important}' +
    '.b,.p{position:fixed;z-index:2147483000;' + (left ? 'left' : 'right') + ':20px}' +
    '.b{bottom:20px;width:58px;height:58px;border:0;border-radius:50%;padding:0;margin:0;cursor:pointer;' +
    'background:' + color + ';color:' + ink(color) + ';display:grid;place-items:center;' +
    'box-shadow:0 6px 20px rgba(0,0,0,.22),0 2px 6px rgba(0,0,0,.12);transition:transform .2s}' +
    '.b:hover{transform:scale(1.06)}.b:focus-visible{outline:3px solid ' + color + ';outline-offset:3px}' +
    '.b svg{width:28px;height:28px;fill:none;stroke:currentColor;stroke-width:2;stroke-linecap:round;stroke-linejoin:round}' +
    '.x,.o .c{display:none}.o .x{display:block}' +
    '.n{position:absolute;top:-3px;right:-3px;min-width:20px;height:20px;padding:0 6px;box-sizing:border-box;' +
    'border-radius:10px;background:#e11d48;color:#fff;font:700 12px/20px system-ui,sans-serif;text-align:center;' +
    'box-shadow:0 0 0 2px #fff}.n[hidden]{display:none}' +
    '.p{bottom:92px;width:384px;height:min(660px,calc(100vh - 116px));border-radius:16px;overflow:hidden;' +
    'background:#fff;box-shadow:0 16px 48px rgba(0,0,0,.24),0 2px 8px rgba(0,0,0,.08);visibility:hidden;opacity:0;' +
    'transform:translateY(14px) scale(.98);transform-origin:bottom ' + (left ? 'left' : 'right') + ';' +
    'transition:opacity .2s,transform .2s,visibility 0s .2s}' +
    '.o .p{visibility:visible;opacity:1;transform:none;transition:opacity .2s,transform .2s}' +
    'iframe{display:block;width:100%;height:100%;border:0}' +
    '@media (max-width:480px){.p{inset:0;width:100%;height:100%;border-radius:0}.o .b{display:none}}' +
    '@media (prefers-color-scheme:dark){.p{background:#18181b;outline:1px solid #ffffff1f}.n{box-shadow:0 0 0 2px #18181b}}' +
    '@media (prefers-reduced-motion:reduce){.b,.p,.o .p{transition:none}.b:hover{transform:none}}';

  const ICONS =
    '<svg class="c" viewBox="0 0 24 24" aria-hidden="true"><path d="M21 11.5a8.4 8.4 0 0 1-12.3 7.5L3 21l2-5.4A8.5 8.5 0 1 1 21 11.5z"/></svg>' +
    '<svg class="x" viewBox="0 0 24 24" aria-hidden="true"><path d="M6 9l6 6 6-6"/></svg>';

  const host = d.createElement('parley-widget');
  const root = host.attachShadow({ mode: 'open' });
  const box = d.createElement('div');
  const panel = d.createElement('div');
  const btn = d.createElement('button');
  const badge = d.createElement('span');
  panel.className = 'p';
  btn.className = 'b';
  btn.type = 'button';
  btn.innerHTML = ICONS;
  badge.className = 'n';
  badge.hidden = true;
  btn.append(badge);
  box.append(panel, btn);
  if (w.CSSStyleSheet && 'adoptedStyleSheets' in root) {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    root.adoptedStyleSheets = [sheet];
  } else {
    const style = d.createElement('style');
    style.textContent = CSS;
    root.append(style);
  }
  root.append(box);

  /** Updates the button's label and badge from isOpen and unread. */
  function paint() {
    box.className = isOpen ? 'o' : '';
    btn.setAttribute('aria-expanded', String(isOpen));
    badge.hidden = isOpen || !unread;
    badge.textContent = unread > 99 ? '99+' : String(unread);
    btn.setAttribute('aria-label', (isOpen ? word(2, 'closeChat') : word(1, 'openChat')) +
      (unread && !isOpen ? ' (' + word(3, 'unread').replace('{n}', unread) + ')' : ''));
  }

  /**
   * Calls the host page's handlers of an event.
   * @param {string} name
   * @param {*} [arg]
   */
  function emit(name, arg) {
    (handlers[name] || []).forEach(function (fn) { fn(arg); });
  }

  /**
   * Remembers for this tab whether the chat is open, so the next page of the
   * site can restore it. Only called after the visitor opened the chat.
   * @param {string} value
   */
  function remember(value) {
    try { w.sessionStorage.setItem(KEY, value); } catch (e) { /* storage blocked */ }
  }

  /**
   * Sends a message to the frame, or keeps it until the frame is ready.
   * @param {Object} msg
   */
  function post(msg) {
    msg.parley = 1;
    if (ready) frame.contentWindow.postMessage(msg, origin);
    else queue.push(msg);
  }

  /** Creates the panel iframe: the first request the widget makes. */
  function build() {
    const q = new URLSearchParams({ origin: location.origin, color: color, locale: locale });
    if (data.title) q.set('title', data.title);
    if (data.greeting) q.set('greeting', data.greeting);
    if (Object.keys(texts).length) q.set('texts', JSON.stringify(texts));
    frame = d.createElement('iframe');
    frame.title = data.title || texts.title || word(0, 'chat');
    frame.src = origin + '/widget/frame.html?' + q;
    panel.append(frame);
    post({ type: 'layout', full: mobile.matches });
    post(identity || { type: 'logout' }); // the frame holds a signed-in session until it knows who is here
    mobile.addEventListener('change', function () { post({ type: 'layout', full: mobile.matches }); });
  }

  let watching = false;

  /**
   * From the first open on, tells the frame each page the visitor goes to
   * in this document (a single-page app's pushState, replaceState, back and
   * forward, #hash changes), a moment after, when the app has set its title.
   */
  function watch() {
    if (watching) return;
    watching = true;
    let last = location.href;
    const report = function () {
      setTimeout(function () {
        if (location.href === last) return;
        last = location.href;
        post({ type: 'page', url: last, title: d.title });
      }, 300);
    };
    ['pushState', 'replaceState'].forEach(function (k) {
      const orig = history[k];
      history[k] = function () {
        const r = orig.apply(this, arguments);
        report();
        return r;
      };
    });
    w.addEventListener('popstate', report);
    w.addEventListener('hashchange', report);
  }

  /**
   * Opens the panel, creating it on first use.
   * @param {boolean} focus move keyboard focus into the panel
   */
  function open(focus) {
    if (!frame) build();
    isOpen = true;
    focusWanted = focus;
    remember('open');
    paint();
    post({ type: 'open', focus: focus, page: location.href, title: d.title, referrer: d.referrer });
    watch();
    if (focus && ready) frame.focus();
    emit('open');
  }

  /**
   * Hides the panel; the frame keeps running to count unread messages.
   * @param {boolean} focus return keyboard focus to the button
   */
  function close(focus) {
    if (!isOpen) return;
    if (focus || root.activeElement === frame) btn.focus();
    isOpen = false;
    remember('closed');
    paint();
    post({ type: 'close' });
    emit('close');
  }

  /**
   * Handles a message from the frame: only from Parley's origin and our iframe.
   * @param {MessageEvent} e
   */
  function receive(e) {
    const m = e.data;
    if (!frame || e.source !== frame.contentWindow || e.origin !== origin || !m || m.parley !== 1) return;
    if (m.type === 'ready') {
      ready = true;
      if (isOpen && focusWanted) frame.focus();
      queue.forEach(function (msg) { frame.contentWindow.postMessage(msg, origin); });
      queue = [];
    } else if (m.type === 'close') {
      close(true);
    } else if (m.type === 'unread') {
      unread = Math.max(0, m.count | 0);
      paint();
      emit('unread', unread);
    } else if (m.type === 'message') {
      emit('message', m.message);
    }
  }

  /**
   * The public API: Parley('open' | 'close' | 'toggle'),
   * Parley('identify', {name, email, id, signature} | {token}), Parley('logout'),
   * Parley('on', 'message' | 'unread' | 'open' | 'close', fn).
   * @param {string} cmd
   * @param {*} [arg]
   * @param {Function} [fn]
   */
  function Parley(cmd, arg, fn) {
    if (cmd === 'open') open(true);
    else if (cmd === 'close') close(false);
    else if (cmd === 'toggle') isOpen ? close(false) : open(true);
    else if (cmd === 'identify' && arg) {
      identity = { type: 'identify', name: String(arg.name || ''), email: String(arg.email || ''),
        id: String(arg.id || ''), signature: String(arg.signature || ''), token: String(arg.token || '') };
      if (frame) post(identity);
    } else if (cmd === 'logout' || cmd === 'identify') {
      identity = null;
      if (frame) post({ type: 'logout' });
    } else if (cmd === 'on' && typeof fn === 'function') {
      (handlers[arg] = handlers[arg] || []).push(fn);
    }
  }
  Parley.loaded = true;
  w.Parley = Parley;

  btn.addEventListener('click', function () { isOpen ? close(true) : open(true); });
  root.addEventListener('keydown', function (e) {
    if (e.key === 'Escape' && isOpen) close(true);
  });
  w.addEventListener('message', receive);

  paint();
  const mount = function () {
    d.body.append(host);
    ((stub && stub.q) || []).forEach(function (args) { Parley.apply(null, args); });
    let was = null;
    try { was = w.sessionStorage.getItem(KEY); } catch (e) { /* storage blocked */ }
    if (was === 'open' && !frame) open(false);
    else if (was === 'closed' && !frame) build();
  };
  if (d.body) mount();
  else d.addEventListener('DOMContentLoaded', mount);
})();
