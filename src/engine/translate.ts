import { EnvironmentError, OperationError } from '../errors.js';

// Engine messages differ between engines and versions. They become typed errors here and nowhere
// else.

export function describeEndpoint(env: NodeJS.ProcessEnv = process.env): string {
  const host = env['DOCKER_HOST'];
  if (!host) return 'unix:///var/run/docker.sock (default; DOCKER_HOST is not set)';
  return `${host} (from DOCKER_HOST${env['DOCKER_TLS_VERIFY'] === '1' ? ', TLS verified' : ''})`;
}

/** DOCKER_HOST forms the docker CLI accepts; anything else is refused before any connection. */
export function checkDockerHost(host: string | undefined): string | null {
  if (host === undefined || host === '') return null;
  if (/^unix:\/\/\/.+/.test(host)) return null;
  if (/^tcp:\/\/[^/\s]+:\d+\/?$/.test(host)) return null;
  if (/^ssh:\/\/([^@/\s]+@)?[^/\s]+(:\d+)?\/?$/.test(host)) return null;
  return 'expected unix:///path/to/docker.sock, tcp://HOST:PORT (TLS with DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH) or ssh://USER@HOST';
}

export function engineUnreachable(endpoint: string, cause: unknown): EnvironmentError {
  const code = (cause as NodeJS.ErrnoException)?.code;
  const why =
    code === 'ENOENT'
      ? 'the socket does not exist'
      : code === 'ECONNREFUSED'
        ? 'connection refused'
        : code === 'EACCES'
          ? 'permission denied on the socket'
          : code === 'ETIMEDOUT' || (cause as Error)?.name === 'TimeoutError' || (cause as Error)?.name === 'AbortError'
            ? 'no answer within 10 s'
            : ((cause as Error)?.message ?? String(cause));
  return new EnvironmentError(
    'engine.unreachable',
    `no Docker engine answers at ${endpoint}: ${why}`,
    code === 'EACCES'
      ? 'run as a user in the docker group, or point DOCKER_HOST at an engine you may use'
      : "start one (on this project's machines: npm run env:up; elsewhere: systemctl start docker), or set DOCKER_HOST (unix://, tcp:// with DOCKER_TLS_VERIFY/DOCKER_CERT_PATH, or ssh://)",
    cause,
  );
}

const GPU_DRIVER_MISSING =
  /could not select device driver .* with capabilities|unknown or invalid runtime name: nvidia|nvidia-container-cli|unresolvable CDI devices|CDI device injection failed|CDI is not enabled/i;

export function isGpuUnavailable(message: string): boolean {
  return GPU_DRIVER_MISSING.test(message);
}

export function translateContainerStartError(message: string, image: string): OperationError {
  if (isGpuUnavailable(message))
    return new OperationError('gpu.unavailable', `the engine cannot give GPUs to a container from ${image}: ${message}`, {
      hint: 'install the NVIDIA Container Toolkit on the Docker host, or run with --gpu off',
    });
  if (/executable file not found|no such file or directory/i.test(message))
    return new OperationError('container.command-not-found', `the command does not exist in ${image.slice(0, 19)}: ${message}`);
  if (/permission denied/i.test(message))
    return new OperationError('container.command-not-executable', `the command cannot be executed in ${image.slice(0, 19)}: ${message}`);
  return new OperationError('container.start-failed', `container from ${image} did not start: ${message}`);
}

const BASE_UNAVAILABLE =
  /pull access denied|manifest unknown|manifest for .* not found|failed to resolve source metadata|repository does not exist|no such host|dial tcp|i\/o timeout|TLS handshake timeout|toomanyrequests|failed to do request: Head|error pulling image configuration|not found: not found/i;

/**
 * A failed build, as the engine described it -> the error the user should see. A base image the
 * engine cannot get, or a network the engine does not have, is the environment (exit 3), not a
 * broken recipe step.
 */
export function translateBuildFailure(err: OperationError, fromImages: string[]): OperationError | EnvironmentError {
  const text = [err.message, ...err.tail].join('\n');
  if (/unknown flag: network/i.test(text))
    return new EnvironmentError(
      'engine.no-run-network',
      `the engine's Dockerfile frontend does not take RUN --network: ${err.message}`,
      'use an engine whose BuildKit takes RUN --network (Docker 23.0 or later), or build with --network none',
      err,
    );
  if (/network bridge not found|network .* not found/i.test(text))
    return new EnvironmentError(
      'engine.no-bridge',
      `the engine has no default bridge network for a build step that needs one: ${err.message}`,
      "the step downloads (index wheels, apt packages): start the engine with a bridge, or pass --network host (BuildKit on Docker 23+ gives it only to the steps that download; every other step keeps RUN --network=none), or vendor the downloads into the recipe's folder and build with --network none",
      err,
    );
  const from = /^build step \[?(?:[a-z_-]+ )?(?:\d+\/\d+\] )?FROM |FROM |load metadata for|resolve image config/i.test(err.message);
  const named = fromImages.find((i) => text.includes(i.split('@')[0]!.replace(/:[^/]*$/, '')));
  if (BASE_UNAVAILABLE.test(text) && (from || named !== undefined))
    return new EnvironmentError(
      'build.base-unavailable',
      `the engine cannot get the base image${named ? ` ${named}` : ''}: ${err.message}`,
      'make the image available to the engine (docker pull, docker load, or a registry it can reach); `dynamo-image lock` pins it by digest',
      err,
    );
  return err;
}

export function translatePushError(message: string, repository: string): OperationError | EnvironmentError {
  if (/unauthorized|authentication required|denied|401|403/i.test(message))
    return new OperationError('publish.unauthorized', `the registry refused ${repository}: ${message}`, { hint: 'check the credentials for this registry' });
  if (/connection refused|no such host|i\/o timeout|connection reset|EOF/i.test(message))
    return new EnvironmentError('registry.unreachable', `cannot reach the registry of ${repository}: ${message}`);
  return new OperationError('publish.failed', `push of ${repository} failed: ${message}`);
}
