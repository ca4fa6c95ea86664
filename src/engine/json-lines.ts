import type { Readable } from 'node:stream';

/**
 * Reads an engine's JSON-lines stream (build, push, pull). Non-JSON lines are passed through as
 * text instead of throwing (dockerode's followProgress throws on them).
 */
export async function forEachJsonLine(stream: Readable, onItem: (item: Record<string, unknown> | string) => void): Promise<void> {
  let buf = '';
  const decoder = new TextDecoder();
  for await (const chunk of stream) {
    buf += typeof chunk === 'string' ? chunk : decoder.decode(chunk as Uint8Array, { stream: true });
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line) onItem(parseLine(line));
    }
  }
  const rest = buf.trim();
  if (rest) onItem(parseLine(rest));
}

function parseLine(line: string): Record<string, unknown> | string {
  try {
    const v: unknown = JSON.parse(line);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : line;
  } catch {
    return line;
  }
}
