import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** A small tmpfs mounted for a test; see {@link mountTmpfs}. */
export interface Tmpfs {
  /** The mount point. */
  readonly dir: string;
  /** Bytes still free on the file system. */
  free(): number;
  /**
   * Writes a filler file until the file system is full (`ENOSPC`), or until only about `leaveBytes`
   * are free; returns the bytes written. Call it again to take space freed meanwhile.
   */
  fill(leaveBytes?: number): number;
  /** Changes the size (`mount -o remount,size=<n>m`), e.g. to make room without deleting anything. */
  resize(sizeMiB: number): void;
  /** Removes the filler file(s): the space is free again. */
  release(): void;
  /** Unmounts (lazily, so a process still holding files there does not block it). Safe to call twice. */
  unmount(): void;
}

/**
 * Mounts a tmpfs of `sizeMiB` at `dir` (created if missing): `mount -t tmpfs -o size=<n>m tmpfs <dir>`.
 * Needs root (CI runs as root); throws an explanatory error otherwise, so the full-disk tests fail
 * rather than pass on a machine that cannot make a full disk.
 */
export function mountTmpfs(dir: string, sizeMiB: number): Tmpfs {
  mkdirSync(dir, { recursive: true });
  if (typeof process.getuid === 'function' && process.getuid() !== 0)
    throw new Error(
      `mounting a tmpfs at ${dir} needs root (CI runs as root): the full-disk tests cannot run without a real full file system`,
    );
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    const stderr = String((err as { stderr?: unknown }).stderr ?? '').trim();
    throw new Error(`could not mount a tmpfs at ${dir}: ${stderr || (err as Error).message}`);
  }
  let fillers = 0;
  let mounted = true;
  const chunk = Buffer.alloc(64 * 1024, 0xa5);
  const page = Buffer.alloc(4096, 0x5a);
  return {
    dir,
    free() {
      const s = statfsSync(dir);
      return s.bavail * s.bsize;
    },
    fill(leaveBytes = 0) {
      const fd = openSync(join(dir, `filler-${fillers++}`), 'w');
      let written = 0;
      const room = () => {
        const s = statfsSync(dir);
        return s.bavail * s.bsize - leaveBytes;
      };
      try {
        for (const buf of [chunk, page]) {
          for (;;) {
            if (leaveBytes > 0 && room() < buf.length) break;
            try {
              written += writeSync(fd, buf);
            } catch (err) {
              if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
              throw err;
            }
          }
        }
      } finally {
        closeSync(fd);
      }
      return written;
    },
    resize(sizeMiB) {
      execFileSync('mount', ['-o', `remount,size=${sizeMiB}m`, dir], { stdio: 'pipe' });
    },
    release() {
      for (let i = 0; i < fillers; i++) rmSync(join(dir, `filler-${i}`), { force: true });
      fillers = 0;
    },
    unmount() {
      if (!mounted) return;
      mounted = false;
      execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
    },
  };
}
