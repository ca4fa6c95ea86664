import type { FieldDocs } from './types.js';

// How the image runs: entrypoint, environment, user, health check.

export const BACKEND_FIELDS: FieldDocs = {
  backend: ['mapping', 'how the image runs'],
  'backend.entrypoint': ['argv', "`ENTRYPOINT` (exec form); left out, the base image's is kept (e.g. an upstream engine image's)"],
  'backend.command': ['argv', "`CMD`; left out, the base image's is kept; `[]` clears it"],
  'backend.env': [
    'name -> one-line value',
    "`ENV`; a value may reference a variable as the base image (or the tool's own `PATH`) has it: `${NAME}`, `${NAME:-default}` (default when unset or empty), `${NAME:+word}` (word only when set), e.g. `LD_LIBRARY_PATH: /opt/acme/lib${LD_LIBRARY_PATH:+:${LD_LIBRARY_PATH}}` (no stray `:` when the base sets none). Every other `$`, quote and backslash is literal (`$HOME` stays `$HOME`); a `${NAME` in any other form is an error",
  ],
  'backend.ports': ['list of ports', '`EXPOSE`'],
  'backend.workdir': ['`/workspace`', "`WORKDIR`, owned by the runtime user; on an upstream engine image (`engine.image`) the image's own is kept unless set"],
  'backend.user': [
    'mapping',
    "the non-root runtime user, created only when the base has no user with that UID (an existing one, e.g. Ubuntu's `ubuntu`, is kept with its home)",
  ],
  'backend.user.name': ['`dynamo`', 'user name'],
  'backend.user.uid': ['`1000`', 'UID (never 0)'],
  'backend.user.gid': ['`0`', 'GID (0: OpenShift style)'],
  'backend.user.replaceExisting': [
    '`false`',
    "`true`: a user the base already has with this UID (Ubuntu's `ubuntu`) is deleted with its home and this one created, as Dynamo's images do; the build fails if that did not happen",
  ],
  'backend.groupWritable': [
    '`false`',
    "the venv (copied `--chown` to the runtime user) and workdir writable by the runtime user's group, and `umask 002` for login shells: OpenShift runs images as an arbitrary UID in group 0 (Dynamo's images do this)",
  ],
  'backend.healthcheck': ['mapping', '`HEALTHCHECK`'],
  'backend.healthcheck.command': ['argv', 'the check'],
  'backend.healthcheck.interval': ['`30s`', 'duration (`500ms`, `30s`, `5m`, `1h`)'],
  'backend.healthcheck.timeout': ['`10s`', 'duration'],
  'backend.healthcheck.startPeriod': ['`5s`', 'duration'],
  'backend.healthcheck.retries': ['`3`', 'count'],
};
