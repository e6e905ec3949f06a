// Times for people: an instant shown in a partner's or the sponsor's time zone as ISO 8601 with
// its offset, to the second ("2026-11-19T08:15:02+01:00"). Stored instants stay UTC; only what
// people read (acknowledgments' *Local fields, .ack.csv, CLI tables) goes through here. Pure.

import { DateTime, IANAZone } from 'luxon';

/** The machine's IANA time zone (what TZ or /etc/localtime says), "UTC" when unknown. */
export function machineZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

export function isValidZone(zone: string): boolean {
  return IANAZone.isValidZone(zone);
}

// An instant: a date, a time and an explicit zone (Z or an offset). Dates alone and local times
// without a zone are not instants and are never shifted.
const INSTANT = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)$/;

export function isInstant(s: string): boolean {
  return INSTANT.test(s);
}

/** `instant` in `zone`, ISO 8601 with offset, whole seconds; anything that is not an instant unchanged. */
export function toLocalIso(instant: string, zone: string): string {
  if (!isInstant(instant)) return instant;
  const dt = DateTime.fromISO(instant.replace(' ', 'T'), { setZone: true });
  if (!dt.isValid) return instant;
  return dt.setZone(zone).startOf('second').toISO({ suppressMilliseconds: true }) ?? instant;
}
