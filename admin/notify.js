// Getting the admin's attention: the unread count in the title and on the
// favicon, opt-in desktop notifications and a short WebAudio beep.

const PREF_KEY = 'parley.admin.notify';

export class Notifier {
  /**
   * @param {{button: HTMLButtonElement, label: HTMLElement, favicon: HTMLLinkElement, onOpenRoom: (id: string) => void}} ui
   */
  constructor(ui) {
    this.ui = ui;
    this.baseIcon = ui.favicon.href;
    this.baseTitle = document.title;
    this.section = '';
    this.count = -1;
    /** @type {AudioContext|null} */
    this.audio = null;
    this.lastBeep = 0;
    ui.button.addEventListener('click', () => this.toggle());
    // Browsers allow audio only after a user gesture: prepare it on the first one.
    const unlock = () => {
      this.prepareAudio();
      window.removeEventListener('pointerdown', unlock);
      window.removeEventListener('keydown', unlock);
    };
    window.addEventListener('pointerdown', unlock);
    window.addEventListener('keydown', unlock);
    this.renderButton();
  }

  /** @returns {boolean} the admin asked for desktop notifications and the browser allows them */
  get enabled() {
    return 'Notification' in window && Notification.permission === 'granted' && localStorage.getItem(PREF_KEY) !== 'off';
  }

  async toggle() {
    this.prepareAudio();
    if (!('Notification' in window)) return;
    if (Notification.permission === 'granted') {
      localStorage.setItem(PREF_KEY, this.enabled ? 'off' : 'on');
    } else if (Notification.permission === 'default') {
      const answer = await Notification.requestPermission();
      if (answer === 'granted') localStorage.setItem(PREF_KEY, 'on');
    }
    this.renderButton();
  }

  renderButton() {
    const { button, label } = this.ui;
    if (!('Notification' in window)) {
      button.hidden = true;
      return;
    }
    const p = Notification.permission;
    const on = this.enabled;
    button.classList.toggle('on', on);
    button.setAttribute('aria-pressed', String(on));
    button.disabled = p === 'denied';
    label.textContent = p === 'denied' ? 'Notifications blocked' : on ? 'Notifications on' : 'Enable notifications';
    button.title = p === 'denied'
      ? 'Notifications are blocked in this browser\u2019s site settings'
      : on ? 'Desktop notifications are on (click to turn off)' : 'Get a desktop notification for new messages';
  }

  /** @param {string} section the page title's middle part, e.g. "Inbox" */
  setSection(section) {
    this.section = section;
    this.renderTitle();
  }

  /** @param {number} n conversations with unread messages */
  setUnread(n) {
    if (n === this.count) return;
    this.count = n;
    this.renderTitle();
    this.ui.favicon.href = n > 0 ? badgeIcon(n) : this.baseIcon;
  }

  renderTitle() {
    const parts = [this.section, this.baseTitle].filter(Boolean).join(' · ');
    document.title = this.count > 0 ? `(${this.count}) ${parts}` : parts;
  }

  /**
   * A new visitor message: when the tab is hidden and the admin opted in,
   * a desktop notification and a beep.
   * @param {{roomId: string, content: string}} msg
   * @param {string} from the visitor's label
   */
  visitorMessage(msg, from) {
    if (document.visibilityState === 'visible' || !this.enabled) return;
    this.beep();
    try {
      const n = new Notification(from, {
        body: msg.content.length > 140 ? msg.content.slice(0, 139) + '…' : msg.content,
        tag: 'parley-' + msg.roomId, icon: this.baseIcon,
      });
      n.onclick = () => {
        window.focus();
        this.ui.onOpenRoom(msg.roomId);
        n.close();
      };
    } catch {
      // Some platforms allow notifications only from a service worker.
    }
  }

  prepareAudio() {
    if (this.audio || !window.AudioContext) return;
    try {
      this.audio = new AudioContext();
    } catch {
      this.audio = null;
    }
  }

  /** Two short soft tones. Quiet on purpose; at most one per second. */
  beep() {
    const ctx = this.audio;
    const now = Date.now();
    if (!ctx || now - this.lastBeep < 1000) return;
    this.lastBeep = now;
    if (ctx.state === 'suspended') ctx.resume().catch(() => {});
    const t = ctx.currentTime;
    [[880, 0], [1320, 0.12]].forEach(([freq, at]) => {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = 'sine';
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, t + at);
      gain.gain.exponentialRampToValueAtTime(0.15, t + at + 0.01);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + at + 0.18);
      osc.connect(gain).connect(ctx.destination);
      osc.start(t + at);
      osc.stop(t + at + 0.2);
    });
  }
}

/**
 * The favicon with a red count badge, as a data: URL (allowed by img-src).
 * @param {number} n
 * @returns {string}
 */
function badgeIcon(n) {
  const size = 64;
  const c = document.createElement('canvas');
  c.width = size;
  c.height = size;
  const g = c.getContext('2d');
  if (!g) return '';
  // The Parley mark: a rounded square with a speech bubble.
  g.fillStyle = '#4f46e5';
  roundRect(g, 2, 2, 60, 60, 14);
  g.fill();
  g.fillStyle = '#ffffff';
  roundRect(g, 14, 16, 36, 26, 8);
  g.fill();
  g.beginPath();
  g.moveTo(22, 40);
  g.lineTo(20, 50);
  g.lineTo(32, 41);
  g.closePath();
  g.fill();
  // The badge.
  const text = n > 99 ? '99+' : String(n);
  const r = 17;
  const w = Math.max(r * 2, 14 + text.length * 15);
  g.fillStyle = '#ef4444';
  roundRect(g, size - w, 0, w, r * 2, r);
  g.fill();
  g.fillStyle = '#ffffff';
  g.font = 'bold 26px system-ui, sans-serif';
  g.textAlign = 'center';
  g.textBaseline = 'middle';
  g.fillText(text, size - w / 2, r + 1);
  return c.toDataURL('image/png');
}

/**
 * @param {CanvasRenderingContext2D} g
 * @param {number} x @param {number} y @param {number} w @param {number} h @param {number} r
 */
function roundRect(g, x, y, w, h, r) {
  g.beginPath();
  g.moveTo(x + r, y);
  g.arcTo(x + w, y, x + w, y + h, r);
  g.arcTo(x + w, y + h, x, y + h, r);
  g.arcTo(x, y + h, x, y, r);
  g.arcTo(x, y, x + w, y, r);
  g.closePath();
}
