// Day and time labels, shared by the widget panel and the console, in the
// user's locale.

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
const longDateFmt = new Intl.DateTimeFormat(undefined, { weekday: 'long', month: 'long', day: 'numeric' });
const yearDateFmt = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'long', day: 'numeric' });
const yearWeekdayFmt = new Intl.DateTimeFormat(undefined, { weekday: 'long', year: 'numeric', month: 'long', day: 'numeric' });

/**
 * Tells whether two times fall on the same local calendar day.
 * @param {Date} a
 * @param {Date} b
 * @returns {boolean}
 */
export function sameDay(a, b) {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

/**
 * The label of a day separator: "Today", "Yesterday", "Monday, November 3";
 * in another year "November 3, 2025", or with weekdayAlways (the widget)
 * "Monday, November 3, 2025". Yesterday is the previous calendar day, so a
 * 23- or 25-hour day (daylight saving) does not shift it.
 * @param {string|number|Date} when
 * @param {Date} [now]
 * @param {{weekdayAlways?: boolean}} [opts]
 * @returns {string}
 */
export function dayLabel(when, now = new Date(), { weekdayAlways = false } = {}) {
  const d = new Date(when);
  if (sameDay(d, now)) return 'Today';
  if (sameDay(d, new Date(now.getFullYear(), now.getMonth(), now.getDate() - 1))) return 'Yesterday';
  if (d.getFullYear() === now.getFullYear()) return longDateFmt.format(d);
  return (weekdayAlways ? yearWeekdayFmt : yearDateFmt).format(d);
}

/**
 * A key naming a time's local calendar day, for grouping.
 * @param {string|number|Date} when
 * @returns {string}
 */
export function dayKey(when) {
  const d = new Date(when);
  return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
}

/**
 * The time of day: "10:04" or "10:04 AM", as the locale writes it.
 * @param {string|number|Date} when
 * @returns {string}
 */
export function clockTime(when) {
  return timeFmt.format(new Date(when));
}
