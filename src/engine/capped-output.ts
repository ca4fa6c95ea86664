// Output read from a container (a command's stdout, a log) is kept as its first and last bytes:
// 150 MB of output must not become 150 MB of memory (issue 19, point 7). What is dropped is said in
// the text itself, where the checks and the report see it.

/** Bytes kept at each end of one stream: DYNAMO_IMAGE_SMOKE_OUTPUT_BYTES (default 256 KiB). */
export function outputCapBytes(env: NodeJS.ProcessEnv = process.env): number {
  const v = Number(env['DYNAMO_IMAGE_SMOKE_OUTPUT_BYTES'] ?? '');
  return Number.isInteger(v) && v >= 1024 ? v : 256 << 10;
}

export class CappedOutput {
  private readonly head: Buffer[] = [];
  private headBytes = 0;
  /** A ring of the latest chunks, trimmed to `cap` bytes. */
  private tail: Buffer[] = [];
  private tailBytes = 0;
  private total = 0;

  constructor(private readonly cap: number = outputCapBytes()) {}

  push(chunk: Buffer): void {
    this.total += chunk.length;
    if (this.headBytes < this.cap) {
      const take = Math.min(chunk.length, this.cap - this.headBytes);
      this.head.push(chunk.subarray(0, take));
      this.headBytes += take;
      chunk = chunk.subarray(take);
      if (!chunk.length) return;
    }
    // Copied: a subarray would keep the whole (possibly large) chunk alive.
    this.tail.push(Buffer.from(chunk));
    this.tailBytes += chunk.length;
    while (this.tailBytes - (this.tail[0]?.length ?? 0) >= this.cap) this.tailBytes -= this.tail.shift()!.length;
  }

  /** Bytes seen in all. */
  get bytes(): number {
    return this.total;
  }

  /** Bytes not kept. */
  get dropped(): number {
    return this.total - this.headBytes - Math.min(this.tailBytes, this.cap);
  }

  text(): string {
    const head = Buffer.concat(this.head).toString('utf8');
    let tail = Buffer.concat(this.tail);
    if (tail.length > this.cap) tail = tail.subarray(tail.length - this.cap);
    const dropped = this.dropped;
    if (!dropped) return head + tail.toString('utf8');
    return `${head}\n[dynamo-image: ${dropped} bytes of output dropped here, of ${this.total}; the first and last ${this.cap} are kept]\n${tail.toString('utf8')}`;
  }
}
