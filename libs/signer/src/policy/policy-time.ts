import type { TimeWindow, Weekday } from './policy-schema.js';

/** A moment in a time zone: its weekday and minutes since local midnight. */
export interface LocalTime {
  day: Weekday;
  minutes: number;
  /** `Tue 18:05 Europe/Paris`, for reasons. */
  label: string;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The weekday and time of day of `now` (epoch ms) in `timeZone`, through Intl. */
export function localTime(now: number, timeZone: string): LocalTime {
  const parts = formatter(timeZone).formatToParts(new Date(now));
  const part = (type: Intl.DateTimeFormatPartTypes): string => parts.find((p) => p.type === type)?.value ?? '';
  const weekday = part('weekday');
  const hour = Number(part('hour')) % 24;
  const minute = Number(part('minute'));
  const hh = String(hour).padStart(2, '0');
  const mm = String(minute).padStart(2, '0');
  return { day: weekday.slice(0, 3).toLowerCase() as Weekday, minutes: hour * 60 + minute, label: `${weekday} ${hh}:${mm} ${timeZone}` };
}

const minutesOf = (clock: string): number => Number(clock.slice(0, 2)) * 60 + Number(clock.slice(3, 5));

/** Whether `now` falls in the window: `[from, to)` local time, wrapping past midnight when from > to. */
export function inWindow(window: TimeWindow, now: number): { inside: boolean; at: LocalTime } {
  const at = localTime(now, window.timeZone ?? 'UTC');
  if (window.days && !window.days.includes(at.day)) return { inside: false, at };
  const from = minutesOf(window.from);
  const to = minutesOf(window.to);
  const inside = from < to ? at.minutes >= from && at.minutes < to : at.minutes >= from || at.minutes < to;
  return { inside, at };
}

export const describeWindow = (w: TimeWindow): string =>
  `${w.days ? `${w.days.join(',')} ` : ''}${w.from}-${w.to} ${w.timeZone ?? 'UTC'}`;
