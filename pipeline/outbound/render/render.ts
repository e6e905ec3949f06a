// A message as a file (JSON, CSV or XML) and the file's name. Shared by the file-drop and the
// SFTP connectors so both hand the receiver byte-identical files.

import type { OutboundMessage } from '../messages.js';
import { toCsv, type CsvOptions } from './csv.js';
import { messageTable } from './tables.js';
import { xmlAttr, xmlElement } from './xml.js';

export type FileFormat = 'json' | 'csv' | 'xml';
export const FILE_FORMATS: readonly FileFormat[] = ['json', 'csv', 'xml'];

export interface RenderedFile {
  name: string;
  content: Buffer;
}

export function renderMessage(msg: OutboundMessage, format: FileFormat, csv: CsvOptions = {}): RenderedFile {
  const name = messageFileName(msg, format);
  switch (format) {
    case 'json':
      return { name, content: Buffer.from(`${JSON.stringify(envelope(msg), null, 2)}\n`, 'utf8') };
    case 'csv': {
      const t = messageTable(msg);
      return { name, content: Buffer.from(toCsv(t.columns, t.rows, csv), 'utf8') };
    }
    case 'xml':
      return { name, content: Buffer.from(toXml(msg), 'utf8') };
    default:
      throw new Error(`unknown file format ${JSON.stringify(format)}`);
  }
}

/**
 * `<topic>_<key>_<id12>.<ext>`: the key is reduced to characters every file system and SFTP
 * server accepts; the id prefix keeps names unique per message and equal for a re-delivery.
 */
export function messageFileName(msg: Pick<OutboundMessage, 'id' | 'topic' | 'key'>, ext: string): string {
  const topic = msg.topic.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[._-]+/, '') || 'x';
  return `${topic.slice(0, 60)}_${safeKey(msg.key)}_${msg.id.slice(0, 12)}.${ext}`;
}

/** `_` stays the separator; `/`, spaces and dot runs (`..`) collapse to a single `-`. */
function safeKey(key: string): string {
  const cleaned = key
    .replace(/[^A-Za-z0-9.]+/g, '-')
    .replace(/[-.]{2,}/g, '-')
    .replace(/^[.-]+|[.-]+$/g, '');
  return (cleaned || 'x').slice(0, 80);
}

function envelope(msg: OutboundMessage): OutboundMessage {
  return { id: msg.id, topic: msg.topic, key: msg.key, createdAt: msg.createdAt, payload: msg.payload };
}

function toXml(msg: OutboundMessage): string {
  const attrs = `id="${xmlAttr(msg.id)}" topic="${xmlAttr(msg.topic)}" key="${xmlAttr(msg.key)}" createdAt="${xmlAttr(msg.createdAt)}"`;
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<message xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ${attrs}>\n` +
    xmlElement('payload', msg.payload, '  ') +
    '</message>\n'
  );
}
