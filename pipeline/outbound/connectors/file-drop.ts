// File drop: each message becomes one file in a folder another system (an ERP import job, a
// QMS interface, a shared drive) picks up. Re-delivering a message rewrites the same name.

import path from 'node:path';
import type { Connector, DeliveryResult, RetryPolicy } from '../delivery.js';
import { DEFAULT_RETRY } from '../delivery.js';
import type { OutboundMessage } from '../messages.js';
import type { CsvOptions } from '../render/csv.js';
import { renderMessage, type FileFormat, type RenderedFile } from '../render/render.js';
import { writeFileAtomic } from './atomic-write.js';

export interface FileDropOptions {
  name: string;
  /** Absolute folder (buildConnectors resolves config paths against the config folder). */
  dir: string;
  format: FileFormat;
  topics: string[];
  csv?: CsvOptions;
  retry?: RetryPolicy;
}

export function createFileDropConnector(opts: FileDropOptions): Connector {
  const dir = path.resolve(opts.dir);
  return {
    name: opts.name,
    type: 'file',
    topics: opts.topics,
    retry: opts.retry ?? DEFAULT_RETRY,
    async deliver(msg: OutboundMessage): Promise<DeliveryResult> {
      let file: RenderedFile;
      try {
        file = renderMessage(msg, opts.format, opts.csv);
      } catch (err) {
        return { ok: false, retryable: false, error: `${opts.name}: cannot render message ${msg.id} as ${opts.format}: ${(err as Error).message}` };
      }
      try {
        await writeFileAtomic(dir, file.name, file.content);
        return { ok: true };
      } catch (err) {
        // Disk full, permissions, a missing mount: the message is fine, the folder is not (yet).
        const e = err as NodeJS.ErrnoException;
        return { ok: false, retryable: true, error: `${opts.name}: cannot write ${path.join(dir, file.name)}: ${e.code ?? ''} ${e.message}`.trim() };
      }
    },
  };
}
