// The console's keyboard: Esc backs out (details drawer, open room, text
// field), j/k and the arrows move through the inbox, / searches, r replies.

/**
 * Tells whether a keyboard event's target is a text field, where single-key
 * shortcuts must not fire.
 * @param {EventTarget|null} target
 * @returns {boolean}
 */
export function isTyping(target) {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  return tag === 'INPUT' && !['button', 'checkbox', 'radio', 'submit'].includes(/** @type {HTMLInputElement} */ (target).type);
}

/**
 * Listens for the shortcuts on the whole document.
 * @param {{
 *   app: HTMLElement, inboxView: HTMLElement, dialog: HTMLDialogElement,
 *   search: HTMLElement, reply: HTMLElement,
 *   inbox: {moveFocus: (delta: number) => void, focusSelected: () => void},
 *   conversation: {id: string},
 *   closeDetails: () => void,
 * }} on
 */
export function bindShortcuts(on) {
  const { inbox, conversation } = on;
  document.addEventListener('keydown', (e) => {
    if (on.app.hidden || e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
    // A modal dialog has the keyboard (its Esc closes it).
    if (on.dialog.open || document.querySelector('dialog[open]')) return;
    const inboxShown = !on.inboxView.hidden;
    if (e.key === 'Escape') {
      if (document.body.classList.contains('details-open') && matchMedia('(max-width: 1180px)').matches) {
        e.preventDefault();
        on.closeDetails();
      } else if (inboxShown && conversation.id) {
        e.preventDefault();
        location.hash = '#/';
        requestAnimationFrame(() => inbox.focusSelected());
      } else if (isTyping(e.target)) {
        /** @type {HTMLElement} */ (e.target).blur();
      }
      return;
    }
    if (isTyping(e.target) || !inboxShown) return;
    if (e.key === 'j' || (e.key === 'ArrowDown' && !conversation.id)) {
      e.preventDefault();
      inbox.moveFocus(1);
    } else if (e.key === 'k' || (e.key === 'ArrowUp' && !conversation.id)) {
      e.preventDefault();
      inbox.moveFocus(-1);
    } else if (e.key === '/') {
      e.preventDefault();
      on.search.focus();
    } else if (e.key === 'r' && conversation.id) {
      e.preventDefault();
      on.reply.focus();
    }
  });
}
