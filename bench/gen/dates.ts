// Dates for generated files, all relative to one fixed anchor (not the clock), so the same
// seed gives the same bytes on every run.

export const ANCHOR = Date.UTC(2026, 10, 20, 0, 0, 0); // 2026-11-20
const DAY = 86_400_000;

export function dayOffset(days: number): Date {
  return new Date(ANCHOR + days * DAY);
}

const p2 = (n: number) => String(n).padStart(2, '0');

/** SAP internal date: yyyyMMdd. */
export function sapDate(d: Date): string {
  return `${d.getUTCFullYear()}${p2(d.getUTCMonth() + 1)}${p2(d.getUTCDate())}`;
}

/** US LIMS style "M/d/yy h:mm a" (the wall-clock fields of `d`, read as local time by the mapping). */
export function usDateTime(d: Date): string {
  const h = d.getUTCHours();
  const h12 = h % 12 === 0 ? 12 : h % 12;
  return `${d.getUTCMonth() + 1}/${d.getUTCDate()}/${p2(d.getUTCFullYear() % 100)} ${h12}:${p2(d.getUTCMinutes())} ${h < 12 ? 'AM' : 'PM'}`;
}

/** ISO-like local "yyyy-MM-dd HH:mm" used by the bench's own CMO feeds. */
export function isoMinute(d: Date): string {
  return `${d.getUTCFullYear()}-${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}`;
}

/** A working-hours time (07:00–17:59) on the day `days` from the anchor: never in a DST gap. */
export function workingTime(days: number, minuteOfShift: number): Date {
  return new Date(ANCHOR + days * DAY + (7 * 60 + (minuteOfShift % 660)) * 60_000);
}
