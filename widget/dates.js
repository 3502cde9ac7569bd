// Day and time labels, shared by the widget panel and the console: in the
// browser's locale, or in the one the panel chose (useDateLocale).

let words = { today: 'Today', yesterday: 'Yesterday' };
let timeFmt, dayFmt, yearFmt, yearDayFmt, fullFmt, weekdayFmt;

/**
 * Formats dates and times in locale from now on, with its words for today
 * and yesterday.
 * @param {string|undefined} locale a BCP 47 tag; undefined: the browser's
 * @param {string} [today]
 * @param {string} [yesterday]
 */
export function useDateLocale(locale, today = 'Today', yesterday = 'Yesterday') {
  const fmt = (opts) => new Intl.DateTimeFormat(locale, opts);
  words = { today, yesterday };
  timeFmt = fmt({ hour: 'numeric', minute: '2-digit' });
  dayFmt = fmt({ weekday: 'long', month: 'long', day: 'numeric' });
  yearFmt = fmt({ year: 'numeric', month: 'long', day: 'numeric' });
  yearDayFmt = fmt({ weekday: 'long', year: 'numeric', month: 'long', day: 'numeric' });
  fullFmt = fmt({ dateStyle: 'full', timeStyle: 'short' });
  weekdayFmt = fmt({ weekday: 'long' });
}

useDateLocale(undefined);

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
  if (sameDay(d, now)) return words.today;
  if (sameDay(d, new Date(now.getFullYear(), now.getMonth(), now.getDate() - 1))) return words.yesterday;
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

/** @param {string|number|Date} when @returns {string} the full date and time, for a tooltip */
export function fullTime(when) {
  return fullFmt.format(new Date(when));
}

/**
 * When the team is back, on the visitor's clock: today, tomorrow (the next
 * calendar day), a weekday within the week, else a date; and the time.
 * @param {string|number|Date} when
 * @param {Date} [now]
 * @returns {{when: 'today'|'tomorrow'|'on', day: string, time: string}}
 */
export function backAt(when, now = new Date()) {
  const d = new Date(when);
  const next = new Date(now.getFullYear(), now.getMonth(), now.getDate() + 1);
  const week = new Date(now.getFullYear(), now.getMonth(), now.getDate() + 7);
  const time = timeFmt.format(d);
  if (sameDay(d, now)) return { when: 'today', day: '', time };
  if (sameDay(d, next)) return { when: 'tomorrow', day: '', time };
  return { when: 'on', day: d < week ? weekdayFmt.format(d) : dayFmt.format(d), time };
}
