import type { NodeLogLevel } from './nodeConfig.js';

/** The node's line logger (one line per event on stdout; warnings and errors on stderr). */
export interface NodeLog {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

const RANK: Readonly<Record<NodeLogLevel, number>> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/**
 * A {@link NodeLog} writing `<ISO time> <level> [<name>] <message>` lines at or above `level`. Callers
 * never pass secrets (keys and passphrases are not logged anywhere in the node).
 */
export function createNodeLog(name: string, level: NodeLogLevel): NodeLog {
  const min = RANK[level];
  const line = (lvl: Exclude<NodeLogLevel, 'silent'>, message: string) => {
    if (RANK[lvl] < min) return;
    const text = `${new Date().toISOString()} ${lvl.padEnd(5)} [${name}] ${message}\n`;
    (RANK[lvl] >= RANK.warn ? process.stderr : process.stdout).write(text);
  };
  return {
    debug: (m) => line('debug', m),
    info: (m) => line('info', m),
    warn: (m) => line('warn', m),
    error: (m) => line('error', m),
  };
}
