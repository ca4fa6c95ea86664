import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { once } from 'node:events';
import tar from 'tar-stream';
import { OperationError } from '../errors.js';
import type { ContextEntry } from './files.js';

// Streams the build context as a deterministic tar, file by file from disk (never whole in
// memory), checking each file's sha256 against the plan as it goes.

export interface PackedContext {
  stream: Readable;
  /** Settles when the last byte is packed; rejects (and errors the stream) on a changed file. */
  done: Promise<{ bytes: number }>;
}

export function packContext(entries: ContextEntry[], mtime: Date): PackedContext {
  const pack = tar.pack();
  // Destroying the pack on a changed file makes it (and the open entry) emit 'error'; the cause is
  // reported through `done`.
  pack.on('error', () => undefined);
  let bytes = 0;
  const header = (e: ContextEntry, size: number) => ({
    name: e.path,
    size,
    mode: e.mode,
    mtime,
    uid: 0,
    gid: 0,
    uname: '',
    gname: '',
    type: 'file' as const,
  });

  const write = async (): Promise<{ bytes: number }> => {
    for (const e of entries) {
      if ('content' in e) {
        await new Promise<void>((resolve, reject) => pack.entry(header(e, e.content.length), Buffer.from(e.content), (err) => (err ? reject(err) : resolve())));
        bytes += e.content.length;
        continue;
      }
      const st = await stat(e.file).catch(() => null);
      if (!st) throw new OperationError('context.missing', `${e.source} disappeared after planning`, { hint: 'run the build again' });
      if (st.size !== e.size)
        throw new OperationError('context.changed', `${e.source} changed after planning: it was ${e.size} bytes, it is ${st.size}`, {
          hint: "run the build again; update the recipe's sha256 if the change is intended",
        });
      const hash = createHash('sha256');
      let entryDone!: () => void;
      let entryFailed!: (err: Error) => void;
      const finished = new Promise<void>((resolve, reject) => {
        entryDone = resolve;
        entryFailed = reject;
      });
      const entry = pack.entry(header(e, e.size), (err) => (err ? entryFailed(err) : entryDone()));
      // If this loop throws first, destroying the pack fails the entry too: that is not news.
      finished.catch(() => undefined);
      (entry as unknown as NodeJS.EventEmitter).on('error', () => undefined);
      let seen = 0;
      for await (const chunk of createReadStream(e.file, { highWaterMark: 1 << 20 })) {
        const buf = chunk as Buffer;
        seen += buf.length;
        if (seen > e.size) throw new OperationError('context.changed', `${e.source} grew while it was being sent`);
        hash.update(buf);
        if (!entry.write(buf)) await once(entry as unknown as NodeJS.EventEmitter, 'drain');
      }
      const sha = hash.digest('hex');
      if (sha !== e.sha256)
        throw new OperationError('context.changed', `${e.source} changed after planning: planned sha256 ${e.sha256}, sent ${sha}`, {
          hint: "run the build again; update the recipe's sha256 if the change is intended",
        });
      (entry as unknown as { end(): void }).end();
      await finished;
      bytes += e.size;
    }
    pack.finalize();
    return { bytes };
  };

  const done = write().catch((err: unknown) => {
    pack.destroy(err as Error);
    throw err;
  });
  // The stream is consumed by the engine client, which does not listen for its errors: they are
  // reported through `done` instead of crashing the process as unhandled 'error' events.
  done.catch(() => undefined);
  const stream = Readable.from(pack as unknown as AsyncIterable<Buffer>);
  stream.on('error', () => undefined);
  return { stream, done };
}
