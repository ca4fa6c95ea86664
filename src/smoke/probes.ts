// Programs run inside the image. They take their input as argv (JSON), never pasted into code.

/** Imports modules and reads distribution versions; prints one JSON line. */
export const PYTHON_CHECK = `
import importlib, json, sys
from importlib import metadata
spec = json.loads(sys.argv[1])
out = {"imports": {}, "dists": {}, "python": sys.version.split()[0]}
for m in spec["imports"]:
    try:
        importlib.import_module(m)
        out["imports"][m] = None
    except BaseException as e:
        out["imports"][m] = type(e).__name__ + ": " + str(e)
for d in spec["dists"]:
    try:
        out["dists"][d] = metadata.version(d)
    except metadata.PackageNotFoundError:
        out["dists"][d] = None
print("DYNAMO_IMAGE_RESULT " + json.dumps(out))
`;

/** One HTTP request to localhost inside the container; prints one JSON line. */
export const PYTHON_HTTP = `
import json, sys, urllib.request, urllib.error
spec = json.loads(sys.argv[1])
req = urllib.request.Request("http://127.0.0.1:%d%s" % (spec["port"], spec["path"]), method=spec["method"],
                             data=spec["body"].encode() if spec.get("body") is not None else None,
                             headers={"Content-Type": "application/json"} if spec.get("body") is not None else {})
try:
    with urllib.request.urlopen(req, timeout=spec["timeout"]) as r:
        out = {"status": r.status, "body": r.read(1 << 20).decode("utf-8", "replace")}
except urllib.error.HTTPError as e:
    out = {"status": e.code, "body": e.read(1 << 20).decode("utf-8", "replace")}
except Exception as e:
    out = {"error": type(e).__name__ + ": " + str(e)}
print("DYNAMO_IMAGE_RESULT " + json.dumps(out))
`;

export function pythonHttpArgv(python: string, req: { port: number; path: string; method: string; body?: string | undefined; timeoutS: number }): string[] {
  return [python, '-c', PYTHON_HTTP, JSON.stringify({ port: req.port, path: req.path, method: req.method, body: req.body ?? null, timeout: req.timeoutS })];
}

/** curl, for images without Python: status code on the last line. */
export function curlArgv(req: { port: number; path: string; method: string; body?: string | undefined; timeoutS: number }): string[] {
  return [
    'curl',
    '-s',
    '-S',
    '-X',
    req.method,
    '--max-time',
    String(req.timeoutS),
    '-w',
    '\nDYNAMO_IMAGE_STATUS %{http_code}',
    ...(req.body !== undefined ? ['-H', 'Content-Type: application/json', '--data-binary', req.body] : []),
    `http://127.0.0.1:${req.port}${req.path}`,
  ];
}

export function parseResultLine(stdout: string): unknown {
  const line = stdout.split('\n').find((l) => l.startsWith('DYNAMO_IMAGE_RESULT '));
  if (!line) return null;
  try {
    return JSON.parse(line.slice('DYNAMO_IMAGE_RESULT '.length));
  } catch {
    return null;
  }
}

export function parseCurl(stdout: string): { status: number; body: string } | null {
  const i = stdout.lastIndexOf('\nDYNAMO_IMAGE_STATUS ');
  if (i < 0) return null;
  const status = Number(stdout.slice(i + '\nDYNAMO_IMAGE_STATUS '.length).trim());
  return status > 0 ? { status, body: stdout.slice(0, i) } : null;
}
