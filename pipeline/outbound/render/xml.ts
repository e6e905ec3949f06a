// Plain-data → XML without a DTD. Text is escaped, characters XML 1.0 forbids are replaced
// (a parser would reject the whole file for one control character), and CR/TAB/LF in attributes
// are written as character references so the receiver reads back exactly what was sent.

const INVALID_XML_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export function xmlText(value: string): string {
  return value
    .replace(INVALID_XML_CHARS, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\r/g, '&#13;');
}

export function xmlAttr(value: string): string {
  return xmlText(value).replace(/"/g, '&quot;').replace(/'/g, '&apos;').replace(/\t/g, '&#9;').replace(/\n/g, '&#10;');
}

/** A key as an element name: characters outside the XML name rules become `_`. */
export function xmlName(key: string): string {
  let name = key.replace(/[^A-Za-z0-9_.-]/g, '_');
  if (!/^[A-Za-z_]/.test(name)) name = `_${name}`;
  return name;
}

/** Element name for one entry of an array-valued key: `reasons` → `reason`, `evidence` → `evidenceItem`. */
export function itemName(key: string): string {
  if (/ies$/.test(key) && key.length > 3) return `${key.slice(0, -3)}y`;
  if (/[^isu]s$/.test(key)) return key.slice(0, -1);
  return `${key}Item`;
}

export function xmlElement(name: string, value: unknown, indent: string): string {
  const tag = xmlName(name);
  if (value === null || value === undefined) return `${indent}<${tag} xsi:nil="true"/>\n`;
  if (Array.isArray(value)) {
    if (value.length === 0) return `${indent}<${tag}/>\n`;
    const child = itemName(name);
    return `${indent}<${tag}>\n${value.map((v) => xmlElement(child, v, `${indent}  `)).join('')}${indent}</${tag}>\n`;
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) return `${indent}<${tag}/>\n`;
    return `${indent}<${tag}>\n${entries.map(([k, v]) => xmlElement(k, v, `${indent}  `)).join('')}${indent}</${tag}>\n`;
  }
  const text = typeof value === 'number' && !Number.isFinite(value) ? '' : String(value);
  return `${indent}<${tag}>${xmlText(text)}</${tag}>\n`;
}
