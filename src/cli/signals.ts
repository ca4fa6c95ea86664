import { InterruptedError } from '../errors.js';

/**
 * An AbortSignal that fires on SIGINT or SIGTERM, so every engine call in flight is cancelled and
 * every `finally` runs. A second signal exits at once.
 */
export function interruptSignal(): { signal: AbortSignal; dispose: () => void } {
  const ac = new AbortController();
  const on = (sig: 'SIGINT' | 'SIGTERM') => () => {
    if (ac.signal.aborted) {
      // A second signal: stop waiting for clean-up. Without our handlers the signal's default
      // action ends the process at once (status 128 + signal, as a shell reports it).
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      process.kill(process.pid, sig);
      return;
    }
    process.stderr.write(`\n${sig}: cancelling (press Ctrl-C again to quit at once)\n`);
    ac.abort(new InterruptedError(sig));
  };
  const onInt = on('SIGINT');
  const onTerm = on('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return {
    signal: ac.signal,
    dispose: () => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    },
  };
}
