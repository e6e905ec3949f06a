// An uploaded file (request body or multipart part) streamed to disk with a size limit: the one
// place the API's upload routes (partner submissions, check-before-submit, guided forms) write one.

import { createWriteStream } from 'node:fs';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ApiError } from './errors.js';

const tooLarge = (maxBytes: number) => new ApiError(413, 'E_API_TOO_LARGE', `the file is larger than ${maxBytes} bytes (http.maxUploadMB); send it over SFTP`);

/** Writes the stream to `file` (which must not exist); throws E_API_TOO_LARGE past maxBytes. Returns the size. */
export async function saveUpload(stream: Readable, file: string, maxBytes: number): Promise<number> {
  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      bytes += chunk.length;
      if (bytes > maxBytes) return cb(tooLarge(maxBytes));
      cb(null, chunk);
    },
  });
  await pipeline(stream, counter, createWriteStream(file, { flags: 'wx' }));
  // @fastify/multipart stops a part at its own limit and marks it truncated.
  if ((stream as { truncated?: boolean }).truncated) throw tooLarge(maxBytes);
  return bytes;
}
