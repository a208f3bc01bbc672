import type { CliStream } from './cliIo.js';

/**
 * A progress indicator for long waits.
 *
 * @example
 * ```ts
 * import type { Spinner } from '@aitbc/cli';
 * const spin: Spinner = out.spinner('waiting for block 12');
 * spin.update('waiting for block 13');
 * spin.stop();
 * ```
 */
export interface Spinner {
  /** Changes the text. */
  update(text: string): void;
  /** Clears the line and stops. */
  stop(): void;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** A spinner that writes nothing (piped output, `--json`). */
export const SILENT_SPINNER: Spinner = { update() {}, stop() {} };

/**
 * Starts a spinner on `stream` (stderr) — only call it for a TTY: it redraws one line with `\r` every
 * 80 ms and erases it on `stop`.
 */
export function startSpinner(stream: CliStream, text: string): Spinner {
  let frame = 0;
  let current = text;
  let stopped = false;
  const draw = () => {
    stream.write(`\r\x1b[K${FRAMES[frame++ % FRAMES.length]} ${current}`);
  };
  draw();
  const timer = setInterval(draw, 80);
  timer.unref?.();
  return {
    update(t: string) {
      current = t;
      if (!stopped) draw();
    },
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      stream.write('\r\x1b[K');
    },
  };
}
