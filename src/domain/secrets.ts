// Build secrets as the command line names them (`--secret id=NAME,src=FILE` or `id=NAME,env=VAR`,
// as buildx takes them) and as a recipe refers to them. One rule for the id. Imports nothing.

export const SECRET_ID_RE = /^[A-Za-z0-9_.-]{1,64}$/;

export type SecretSpec = { id: string; src: string } | { id: string; env: string };

/** Parses one spec; the problem as text (without the value of src or env) when it is not one. */
export function parseSecretSpec(spec: string): { ok: true; spec: SecretSpec } | { ok: false; problem: string; hint?: string } {
  const kv = Object.fromEntries(spec.split(',').map((p) => (p.includes('=') ? [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)] : [p, ''])));
  const id = kv['id'];
  if (!id || !SECRET_ID_RE.test(id))
    return {
      ok: false,
      problem: `--secret ${spec.replace(/(src|env)=.*/, '$1=...')}: needs id=NAME (letters, digits, _ . -)`,
      hint: 'e.g. --secret id=index_token,src=token.txt or --secret id=index_token,env=INDEX_TOKEN',
    };
  if (kv['src'] !== undefined) return { ok: true, spec: { id, src: kv['src'] } };
  if (kv['env'] !== undefined) return { ok: true, spec: { id, env: kv['env'] } };
  return { ok: false, problem: `--secret id=${id}: needs src=FILE or env=VARIABLE` };
}
