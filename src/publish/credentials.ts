import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { EnvironmentError } from '../errors.js';

// Registry credentials, found the way the docker CLI finds them, plus environment variables for
// CI. The secret never leaves this module's return value: messages name only the source.

export const ENV_USERNAME = 'DYNAMO_IMAGE_REGISTRY_USERNAME';
export const ENV_PASSWORD = 'DYNAMO_IMAGE_REGISTRY_PASSWORD';
/**
 * Optional: the registry host the environment credentials are for. Without it they are for the
 * registry being published to, and no other: a base image's registry never sees them.
 */
export const ENV_REGISTRY = 'DYNAMO_IMAGE_REGISTRY';

export type Secret = { username: string; password: string } | { identityToken: string };

export interface Credentials {
  /** Where they came from, safe to print: `environment (DYNAMO_IMAGE_REGISTRY_USERNAME)`, `auths in ~/.docker/config.json`. */
  source: string;
  secret: Secret | null;
}

interface DockerConfig {
  auths?: Record<string, { auth?: string; identitytoken?: string; username?: string; password?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env['DOCKER_CONFIG'] ?? path.join(os.homedir(), '.docker'), 'config.json');
}

/** Keys under which a config may store a host: as is, with a scheme, Docker Hub's legacy key. */
function keysFor(host: string): string[] {
  const keys = [host, `https://${host}`, `http://${host}`, `https://${host}/v1/`, `https://${host}/v2/`];
  if (host === 'docker.io' || host === 'registry-1.docker.io' || host === 'index.docker.io')
    keys.push('https://index.docker.io/v1/', 'index.docker.io', 'docker.io');
  return keys;
}

function runHelper(helper: string, host: string, env: NodeJS.ProcessEnv): Promise<Secret | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(`docker-credential-${helper}`, ['get'], { stdio: ['pipe', 'pipe', 'pipe'], env });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e) =>
      reject(
        new EnvironmentError(
          'credentials.helper-missing',
          `credential helper docker-credential-${helper} could not run: ${(e as NodeJS.ErrnoException).code ?? e.message}`,
          `install it or remove "${helper}" from ${dockerConfigPath()}`,
        ),
      ),
    );
    child.on('close', (code) => {
      if (code !== 0) {
        // "credentials not found in native keychain" is not an error: there are none for this host.
        if (/not found/i.test(out + err)) return resolve(null);
        return reject(new EnvironmentError('credentials.helper-failed', `credential helper docker-credential-${helper} failed for ${host} (exit ${code})`));
      }
      try {
        const j = JSON.parse(out) as { Username?: string; Secret?: string };
        if (!j.Secret) return resolve(null);
        resolve(j.Username === '<token>' ? { identityToken: j.Secret } : { username: j.Username ?? '', password: j.Secret });
      } catch {
        reject(new EnvironmentError('credentials.helper-failed', `credential helper docker-credential-${helper} answered something that is not JSON`));
      }
    });
    child.stdin.end(host);
  });
}

/**
 * The credentials for one registry host. `publish: true` says the host is the one being published
 * to: only then do environment credentials without DYNAMO_IMAGE_REGISTRY apply. The registry client
 * sends what this returns only in answer to that host's own challenge.
 */
export async function findCredentials(host: string, env: NodeJS.ProcessEnv = process.env, opts: { publish?: boolean } = {}): Promise<Credentials> {
  const user = env[ENV_USERNAME];
  const pass = env[ENV_PASSWORD];
  const scope = env[ENV_REGISTRY];
  if (user !== undefined && pass !== undefined && (scope ? scope === host : opts.publish === true))
    return { source: `environment (${ENV_USERNAME}, ${ENV_PASSWORD})`, secret: { username: user, password: pass } };
  const file = dockerConfigPath(env);
  let config: DockerConfig;
  try {
    config = JSON.parse(await readFile(file, 'utf8')) as DockerConfig;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { source: `none (no ${file})`, secret: null };
    throw new EnvironmentError('credentials.config', `cannot read ${file}: ${(e as Error).message.replace(/\n.*/s, '')}`);
  }
  const keys = keysFor(host);
  const helper = keys.map((k) => config.credHelpers?.[k]).find(Boolean);
  if (helper) return { source: `credHelpers (docker-credential-${helper}) in ${file}`, secret: await runHelper(helper, host, env) };
  const entryKey = keys.find((k) => config.auths?.[k]);
  const entry = entryKey ? config.auths![entryKey]! : undefined;
  if (entry?.identitytoken) return { source: `auths["${entryKey}"].identitytoken in ${file}`, secret: { identityToken: entry.identitytoken } };
  if (entry?.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i < 0) throw new EnvironmentError('credentials.config', `auths["${entryKey}"].auth in ${file} is not base64 of user:password`);
    return { source: `auths["${entryKey}"].auth in ${file}`, secret: { username: decoded.slice(0, i), password: decoded.slice(i + 1) } };
  }
  if (entry?.username && entry.password) return { source: `auths["${entryKey}"] in ${file}`, secret: { username: entry.username, password: entry.password } };
  if (config.credsStore)
    return { source: `credsStore (docker-credential-${config.credsStore}) in ${file}`, secret: await runHelper(config.credsStore, host, env) };
  return { source: `none (no entry for ${host} in ${file})`, secret: null };
}

/** The engine's X-Registry-Auth payload. */
export function engineAuth(host: string, secret: Secret | null): Record<string, string> | null {
  if (!secret) return null;
  return 'identityToken' in secret
    ? { identitytoken: secret.identityToken, serveraddress: host }
    : { username: secret.username, password: secret.password, serveraddress: host };
}
