#!/usr/bin/env node
// Lists every exported top-level declaration of every documented entry point whose TSDoc has no
// `@example` block tag, and every public subpath of a package's `exports` map that typedoc does not
// document. Uses typedoc's own conversion with the root typedoc.json, so what it checks is exactly
// what `npm run docs` documents.
//
//   node scripts/checkDocExamples.mjs                    every package; exit 1 if anything is missing
//   node scripts/checkDocExamples.mjs --package crypto   one package (dir name or @aitbc/crypto)
//   node scripts/checkDocExamples.mjs --summary          counts per package instead of the list
//   node scripts/checkDocExamples.mjs --where            each line ends with the declaring file:line
//
// Rules: functions pass when a signature comment or the declaration comment has `@example`; classes,
// interfaces, type aliases, variables, enums and namespaces pass on their own comment; members do
// not need examples. A symbol re-exported by several entry points (or packages) counts once, under
// the package whose source declares it.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { Application, ReflectionKind } from 'typedoc';

const root = resolve(import.meta.dirname, '..');
process.chdir(root);

const argv = process.argv.slice(2);
const summary = argv.includes('--summary');
const where = argv.includes('--where');
const pi = argv.indexOf('--package');
const only = pi >= 0 ? argv[pi + 1] : undefined;
if (pi >= 0 && (only === undefined || only.startsWith('--'))) {
  console.error('usage: checkDocExamples.mjs [--package <name>] [--summary]');
  process.exit(2);
}

function commonDir(paths) {
  const parts = paths.map((p) => p.split(sep));
  let n = 0;
  while (n < parts[0].length && parts.every((p) => p[n] === parts[0][n])) n++;
  return parts[0].slice(0, n).join(sep);
}

const config = JSON.parse(readFileSync(join(root, 'typedoc.json'), 'utf8'));
const packages = config.entryPoints.map((dir) => {
  const manifest = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
  const own = join(root, dir, 'typedoc.json');
  const entries =
    (existsSync(own) && JSON.parse(readFileSync(own, 'utf8')).entryPoints) ||
    manifest.typedocOptions?.entryPoints ||
    config.packageOptions.entryPoints;
  const base = commonDir(entries.map((e) => resolve(root, dir, dirname(e))));
  return { dir, abs: resolve(root, dir), base, name: manifest.name, exports: manifest.exports ?? {} };
});
const selected = only
  ? packages.filter(
      (p) => p.name === only || p.dir === only || p.dir.endsWith(`/${only}`) || p.name === `@aitbc/${only}`,
    )
  : packages;
if (selected.length === 0) {
  console.error(`unknown package ${only}; one of: ${packages.map((p) => p.name).join(', ')}`);
  process.exit(2);
}

const app = await Application.bootstrapWithPlugins({
  options: 'typedoc.json',
  entryPoints: selected.map((p) => p.dir),
  // Source positions identify a re-exported symbol; type errors in work in progress are not ours.
  packageOptions: {
    ...config.packageOptions,
    disableSources: false,
    disableGit: true,
    sourceLinkTemplate: '{path}',
    skipErrorChecking: true,
  },
  disableSources: false,
  skipErrorChecking: true,
  logLevel: 'Warn',
});
const project = await app.convert();
if (!project) {
  console.error('typedoc conversion failed');
  process.exit(2);
}

const kindsNeedingExample = new Set([
  ReflectionKind.Function,
  ReflectionKind.Class,
  ReflectionKind.Interface,
  ReflectionKind.TypeAlias,
  ReflectionKind.Variable,
  ReflectionKind.Enum,
  ReflectionKind.Namespace,
]);
const hasExample = (comment) => comment?.blockTags?.some((t) => t.tag === '@example') ?? false;
const documented = (r) => hasExample(r.comment) || (r.signatures ?? []).some((s) => hasExample(s.comment));

/**
 * typedoc writes source paths relative to a base directory it derives per package (the entry points'
 * common directory, or higher when the program's files span several packages): try those bases.
 */
function sourcePath(pkg, fileName) {
  const bases = [pkg.base, pkg.abs, dirname(pkg.abs), root];
  return bases.map((b) => resolve(b, fileName)).find((f) => existsSync(f)) ?? resolve(pkg.base, fileName);
}

/** Declarations of one leaf module: { module: '@aitbc/x/sub', decl } */
const seen = new Map(); // source key -> entry
const modules = [];
function collect(pkg, moduleName, mod) {
  modules.push(moduleName);
  for (const r of mod.children ?? []) {
    if (!kindsNeedingExample.has(r.kind)) continue;
    const src = r.sources?.[0];
    const file = src ? sourcePath(pkg, src.fileName) : undefined;
    const key = src ? `${file}:${src.line}:${r.name}` : `${moduleName}:${r.name}`;
    const at = src ? `${relative(root, file)}:${src.line}` : '?';
    const entry = {
      pkg: pkg.name,
      module: moduleName,
      name: r.name,
      kind: ReflectionKind[r.kind],
      ok: documented(r),
      at,
    };
    const prev = seen.get(key);
    const ownsFile = file?.startsWith(pkg.abs + sep) ?? false;
    if (!prev || (ownsFile && !prev.ownsFile)) seen.set(key, { ...entry, ownsFile });
  }
}
const byName = new Map(selected.map((p) => [p.name, p]));
// With one package typedoc makes the package the project itself; with several, one module each.
const tops = selected.length === 1 ? [project] : (project.children ?? []);
for (const top of tops) {
  const pkg = selected.length === 1 ? selected[0] : byName.get(top.name);
  if (!pkg) continue;
  const subModules = (top.children ?? []).filter((c) => c.kind === ReflectionKind.Module);
  if (subModules.length > 0 && subModules.length === (top.children ?? []).length) {
    for (const m of subModules) collect(pkg, m.name === 'index' ? pkg.name : `${pkg.name}/${m.name}`, m);
  } else {
    collect(pkg, pkg.name, top);
  }
}

// Every public subpath of the exports map must be a documented entry point.
const undocumentedEntries = [];
for (const pkg of selected) {
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    if (subpath === './package.json' || subpath.includes('*')) continue;
    const moduleName = subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`;
    if (!modules.includes(moduleName)) {
      const src = typeof target === 'object' ? (target['@aitbc/source'] ?? target.types) : target;
      undocumentedEntries.push(`${moduleName} (${relative(root, join(pkg.abs, String(src)))})`);
    }
  }
}

const entries = [...seen.values()];
const missing = entries.filter((e) => !e.ok);
if (summary) {
  for (const pkg of selected) {
    const all = entries.filter((e) => e.pkg === pkg.name);
    const miss = all.filter((e) => !e.ok).length;
    console.log(`${pkg.name.padEnd(24)} ${String(miss).padStart(4)} missing of ${String(all.length).padStart(4)}`);
  }
} else {
  for (const e of missing) console.log(`${e.module}: ${e.name} (${e.kind})${where ? ` ${e.at}` : ''}`);
}
for (const e of undocumentedEntries) console.log(`entry point not documented by typedoc: ${e}`);
console.log(`${missing.length} of ${entries.length} exported declarations have no @example`);
process.exit(missing.length > 0 || undocumentedEntries.length > 0 ? 1 : 0);
