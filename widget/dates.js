// Day and time labels in the user's locale, shared by the widget panel and
// the console.

const fmt = (opts) => new Intl.DateTimeFormat(undefined, opts);
const timeFmt = fmt({ hour: 'numeric', minute: '2-digit' });
const dayFmt = fmt({ weekday: 'long', month: 'long', day: 'numeric' });
const yearFmt = fmt({ year: 'numeric', month: 'long', day: 'numeric' });
const yearDayFmt = fmt({ weekday: 'long', year: 'numeric', month: 'long', day: 'numeric' });

/** @param {Date} a @param {Date} b on the same local calendar day */
export function sameDay(a, b) {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

/**
 * A day separator: "Today", "Yesterday" (the calendar day before, whatever
 * daylight saving does), "Monday, November 3"; in another year
 * "November 3, 2025", or with weekdayAlways (the widget) "Monday, November 3, 2025".
 * @param {string|number|Date} when
 * @param {Date} [now]
 * @param {{weekdayAlways?: boolean}} [opts]
 */
export function dayLabel(when, now = new Date(), { weekdayAlways = false } = {}) {
  const d = new Date(when);
  if (sameDay(d, now)) return 'Today';
  if (sameDay(d, new Date(now.getFullYear(), now.getMonth(), now.getDate() - 1))) return 'Yesterday';
  if (d.getFullYear() === now.getFullYear()) return dayFmt.format(d);
  return (weekdayAlways ? yearDayFmt : yearFmt).format(d);
}

/** @param {string|number|Date} when @returns {string} a key of its local calendar day */
export function dayKey(when) {
  const d = new Date(when);
  return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
}

/** @param {string|number|Date} when @returns {string} "10:04", as the locale writes it */
export function clockTime(when) {
  return timeFmt.format(new Date(when));
}
