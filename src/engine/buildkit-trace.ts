// Decodes BuildKit's progress messages (`moby.buildkit.trace`: base64 of a protobuf
// moby.buildkit.v1.StatusResponse). A minimal wire-format reader: only the fields we show.
//
// StatusResponse { repeated Vertex vertexes = 1; repeated VertexStatus statuses = 2;
//                  repeated VertexLog logs = 3; repeated VertexWarning warnings = 4; }
// Vertex { string digest = 1; repeated string inputs = 2; string name = 3; bool cached = 4;
//          Timestamp started = 5; Timestamp completed = 6; string error = 7; }
// VertexLog { string vertex = 1; Timestamp timestamp = 2; int64 stream = 3; bytes msg = 4; }
// Timestamp { int64 seconds = 1; int32 nanos = 2; }

export interface TraceVertex {
  digest: string;
  name: string;
  cached: boolean;
  startedMs: number | null;
  completedMs: number | null;
  error: string | null;
}

export interface TraceLog {
  vertex: string;
  stream: number;
  data: Uint8Array;
}

export interface Trace {
  vertexes: TraceVertex[];
  logs: TraceLog[];
}

class Reader {
  pos = 0;
  constructor(private readonly buf: Uint8Array) {}
  get done(): boolean {
    return this.pos >= this.buf.length;
  }
  varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.buf.length) throw new Error('truncated varint');
      const b = this.buf[this.pos++]!;
      // Numbers above 2^53 lose precision; timestamps and sizes stay far below it.
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 63) throw new Error('varint too long');
    }
  }
  bytes(): Uint8Array {
    const len = this.varint();
    if (this.pos + len > this.buf.length) throw new Error('truncated field');
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }
  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 1) this.pos += 8;
    else if (wireType === 2) this.bytes();
    else if (wireType === 5) this.pos += 4;
    else throw new Error(`unsupported wire type ${wireType}`);
  }
  *fields(): Generator<[number, number]> {
    while (!this.done) {
      const tag = this.varint();
      yield [Math.floor(tag / 8), tag & 7];
    }
  }
}

const text = new TextDecoder();

function timestampMs(buf: Uint8Array): number {
  const r = new Reader(buf);
  let s = 0;
  let n = 0;
  for (const [f, w] of r.fields()) {
    if (f === 1 && w === 0) s = r.varint();
    else if (f === 2 && w === 0) n = r.varint();
    else r.skip(w);
  }
  return s * 1000 + Math.floor(n / 1e6);
}

function vertex(buf: Uint8Array): TraceVertex {
  const r = new Reader(buf);
  const v: TraceVertex = { digest: '', name: '', cached: false, startedMs: null, completedMs: null, error: null };
  for (const [f, w] of r.fields()) {
    if (f === 1 && w === 2) v.digest = text.decode(r.bytes());
    else if (f === 3 && w === 2) v.name = text.decode(r.bytes());
    else if (f === 4 && w === 0) v.cached = r.varint() !== 0;
    else if (f === 5 && w === 2) v.startedMs = timestampMs(r.bytes());
    else if (f === 6 && w === 2) v.completedMs = timestampMs(r.bytes());
    else if (f === 7 && w === 2) v.error = text.decode(r.bytes());
    else r.skip(w);
  }
  return v;
}

function log(buf: Uint8Array): TraceLog {
  const r = new Reader(buf);
  const l: TraceLog = { vertex: '', stream: 1, data: new Uint8Array() };
  for (const [f, w] of r.fields()) {
    if (f === 1 && w === 2) l.vertex = text.decode(r.bytes());
    else if (f === 3 && w === 0) l.stream = r.varint();
    else if (f === 4 && w === 2) l.data = r.bytes();
    else r.skip(w);
  }
  return l;
}

export function decodeTrace(base64: string): Trace {
  const r = new Reader(Buffer.from(base64, 'base64'));
  const out: Trace = { vertexes: [], logs: [] };
  for (const [f, w] of r.fields()) {
    if (f === 1 && w === 2) out.vertexes.push(vertex(r.bytes()));
    else if (f === 3 && w === 2) out.logs.push(log(r.bytes()));
    else r.skip(w);
  }
  return out;
}
