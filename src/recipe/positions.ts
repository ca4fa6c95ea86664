import { formatFieldPath } from '../errors.js';
import { isMap, isPair, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';

export interface Position {
  line: number;
  col: number;
}

type Key = string | number;

/** Where a field lives in the YAML source. Falls back to the nearest existing ancestor. */
export function locate(doc: Document, lc: LineCounter, path: readonly Key[], opts: { keyOf?: boolean } = {}): Position {
  let node: unknown = doc.contents;
  let best: Position = { line: 1, col: 1 };
  const at = (n: unknown): Position | null => {
    const range = (n as Node | null)?.range;
    if (!range) return null;
    const p = lc.linePos(range[0]);
    return { line: p.line, col: p.col };
  };
  best = at(node) ?? best;
  for (let i = 0; i < path.length; i++) {
    const key = path[i]!;
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((it) => isPair(it) && isScalar(it.key) && String(it.key.value) === String(key));
      if (!pair) return best;
      // Point at the key of the last step when asked (unknown keys), else at the value.
      if (last && opts.keyOf) return at(pair.key) ?? best;
      node = pair.value ?? pair.key;
      // A block mapping or list starts on the line after its key: the key is where a reader looks.
      const blockCollection = (isMap(node) || isSeq(node)) && !(node as { flow?: boolean }).flow;
      best = (blockCollection ? at(pair.key) : at(node)) ?? at(pair.key) ?? best;
    } else if (isSeq(node)) {
      const item = node.items[Number(key)];
      if (item === undefined) return best;
      node = item;
      best = at(node) ?? best;
    } else {
      return best;
    }
  }
  return best;
}

/** `['files', 0, 'source']` -> `files[0].source`. */
export function formatPath(path: readonly (string | number)[]): string {
  return formatFieldPath(path);
}
