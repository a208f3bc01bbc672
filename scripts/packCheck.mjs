#!/usr/bin/env node
// `npm run pack:check`: every publishable workspace must pack cleanly and pass publint and
// are-the-types-wrong (ESM-only profile). Run after `npm run build`.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const { workspaces } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const out = mkdtempSync(join(tmpdir(), 'aitbc-pack-'));
let failures = 0;
const bin = (name) => join(root, 'node_modules', '.bin', name);

// Workspace entries are folders or `folder/*` globs (every subfolder with a package.json).
const dirs = workspaces.flatMap((ws) =>
  ws.endsWith('/*')
    ? readdirSync(join(root, ws.slice(0, -2)), { withFileTypes: true })
        .filter((d) => d.isDirectory() && existsSync(join(root, ws.slice(0, -2), d.name, 'package.json')))
        .map((d) => join(root, ws.slice(0, -2), d.name))
    : [join(root, ws)],
);

for (const dir of dirs) {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  if (pkg.private) continue;
  process.stdout.write(`${pkg.name}: `);
  try {
    const json = execFileSync('npm', ['pack', '--json', '--pack-destination', out], {
      cwd: dir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const [info] = JSON.parse(json);
    const files = info.files.map((f) => f.path);
    for (const required of ['package.json', 'README.md', 'dist/index.js', 'dist/index.d.ts']) {
      if (!files.includes(required)) throw new Error(`tarball lacks ${required}`);
    }
    if (files.some((f) => f.startsWith('test/') || f.startsWith('bench/')))
      throw new Error('tarball contains tests or benches');
    const tarball = join(out, info.filename);
    execFileSync(bin('publint'), ['run', tarball, '--strict'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    execFileSync(bin('attw'), [tarball, '--profile', 'esm-only', '--format', 'table-flipped', '--no-emoji'], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    console.log(`ok (${files.length} files, ${(info.size / 1024).toFixed(1)} kB packed)`);
  } catch (err) {
    failures++;
    console.log('FAILED');
    console.log(String(err.stdout ?? ''), String(err.stderr ?? ''), err.stdout ? '' : String(err.message));
  }
}
rmSync(out, { recursive: true, force: true });
if (failures > 0) {
  console.error(`${failures} package(s) failed the pack check`);
  process.exit(1);
}
