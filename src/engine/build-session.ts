import { Duplex } from 'node:stream';
import type DockerModem from 'docker-modem';

// A BuildKit session (POST /session, upgraded to HTTP/2, gRPC served from our side) that answers
// the builder's requests for secrets (`RUN --mount=type=secret,id=ID`) and registry credentials.
// Secrets stay in this process: they are sent to the builder only when a step mounts them, and
// never reach the plan, a label, the context or a log. Messages are encoded by hand (three small
// protobuf messages), so no .proto file has to ship.

/** What the session needs of dockerode's modem: one hijacked request. */
export type SessionDialer = Pick<DockerModem, 'dial'>;

/** Field 1 (a string) of a protobuf message: GetSecretRequest.ID, CredentialsRequest.Host. */
function stringField1(buf: Buffer): string {
  let i = 0;
  while (i < buf.length) {
    let key = 0;
    let shift = 0;
    let b: number;
    do {
      b = buf[i++]!;
      key |= (b & 0x7f) << shift;
      shift += 7;
    } while (b & 0x80);
    const wire = key & 7;
    if (wire === 2) {
      let len = 0;
      shift = 0;
      do {
        b = buf[i++]!;
        len |= (b & 0x7f) << shift;
        shift += 7;
      } while (b & 0x80);
      if (key >> 3 === 1) return buf.subarray(i, i + len).toString('utf8');
      i += len;
    } else if (wire === 0) {
      while (buf[i++]! & 0x80);
    } else return '';
  }
  return '';
}

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return Buffer.from(out);
}

function bytesField(field: number, data: Buffer): Buffer {
  return Buffer.concat([varint((field << 3) | 2), varint(data.length), data]);
}

export async function openBuildSession(
  modem: SessionDialer,
  secrets: Map<string, Buffer>,
  auth: { username: string; password: string } | null,
): Promise<{ id: string; close: () => void }> {
  const grpc = await import('@grpc/grpc-js');
  const { randomUUID } = await import('node:crypto');
  const id = randomUUID();
  const socket = await new Promise<Duplex>((resolve, reject) =>
    modem.dial(
      {
        method: 'POST',
        path: '/session',
        hijack: true,
        // The engine's session manager only routes a call to methods the session says it serves.
        headers: {
          Upgrade: 'h2c',
          'X-Docker-Expose-Session-Uuid': id,
          'X-Docker-Expose-Session-Name': 'dynamo-image',
          'X-Docker-Expose-Session-Sharedkey': id,
          'X-Docker-Expose-Session-Grpc-Method': [
            '/moby.buildkit.secrets.v1.Secrets/GetSecret',
            '/moby.filesync.v1.Auth/Credentials',
            '/grpc.health.v1.Health/Check',
          ],
        },
        statusCodes: { 200: true, 101: true, 500: 'server error' },
      },
      // A hijacked request answers with the socket itself; anything else is not a session.
      (err, s) => (err ? reject(err) : s instanceof Duplex ? resolve(s) : reject(new Error('the engine answered POST /session without a stream'))),
    ),
  );
  const server = new grpc.Server();
  const raw = (b: Buffer) => b;
  server.addService(
    {
      GetSecret: {
        path: '/moby.buildkit.secrets.v1.Secrets/GetSecret',
        requestStream: false,
        responseStream: false,
        requestDeserialize: raw,
        requestSerialize: raw,
        responseSerialize: raw,
        responseDeserialize: raw,
      },
    },
    {
      GetSecret: (call: { request: Buffer }, cb: (err: { code: number; details: string } | null, res?: Buffer) => void) => {
        const key = stringField1(call.request);
        const value = secrets.get(key);
        if (!value) return cb({ code: grpc.status.NOT_FOUND, details: `secret ${key} not given (--secret id=${key},src=FILE or env=VAR)` });
        cb(null, bytesField(1, value));
      },
    },
  );
  server.addService(
    {
      Credentials: {
        path: '/moby.filesync.v1.Auth/Credentials',
        requestStream: false,
        responseStream: false,
        requestDeserialize: raw,
        requestSerialize: raw,
        responseSerialize: raw,
        responseDeserialize: raw,
      },
    },
    {
      Credentials: (_call: { request: Buffer }, cb: (err: null, res: Buffer) => void) => {
        cb(null, auth ? Buffer.concat([bytesField(1, Buffer.from(auth.username)), bytesField(2, Buffer.from(auth.password))]) : Buffer.alloc(0));
      },
    },
  );
  // The engine checks the session's health every few seconds and drops a session that does not
  // answer: HealthCheckResponse { status: SERVING (1) }.
  server.addService(
    {
      Check: {
        path: '/grpc.health.v1.Health/Check',
        requestStream: false,
        responseStream: false,
        requestDeserialize: raw,
        requestSerialize: raw,
        responseSerialize: raw,
        responseDeserialize: raw,
      },
    },
    { Check: (_call: unknown, cb: (err: null, res: Buffer) => void) => cb(null, Buffer.from([0x08, 0x01])) },
  );
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  injector.injectConnection(socket);
  return {
    id,
    close: () => {
      server.forceShutdown();
      socket.end();
    },
  };
}
