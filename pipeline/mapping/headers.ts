// How header text is compared with the spellings a mapping lists: ignoring case, spaces around,
// and runs of whitespace inside (Excel exports carry double and non-breaking spaces).

export function normalizeHeader(text: string): string {
  return text.trim().replace(/\s+/g, ' ').toLowerCase();
}
