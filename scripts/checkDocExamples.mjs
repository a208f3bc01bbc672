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
//   node scripts/checkDocExamples.mjs --typecheck        also compiles every example against the real API
//     (free identifiers such as `seed` or `hub` are declared `any`; imports and calls on what the
//     example imports are checked; best effort: an un-imported name is `any`, so it checks nothing)
//
// Rules: functions pass when a signature comment or the declaration comment has `@example`; classes,
// interfaces, type aliases, variables, enums and namespaces pass on their own comment; members do
// not need examples. A symbol re-exported by several entry points (or packages) counts once, under
// the package whose source declares it.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { Application, ReflectionKind } from 'typedoc';

const root = resolve(import.meta.dirname, '..');
process.chdir(root);

const argv = process.argv.slice(2);
const summary = argv.includes('--summary');
const where = argv.includes('--where');
const typecheck = argv.includes('--typecheck');
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
/** The code of every `@example` block of a declaration and its signatures. */
const examplesOf = (r) =>
  [r.comment, ...(r.signatures ?? []).map((s) => s.comment)]
    .flatMap((c) => c?.blockTags ?? [])
    .filter((t) => t.tag === '@example')
    .flatMap((t) => t.content.filter((part) => part.kind === 'code').map((part) => part.text))
    .map((text) => text.replace(/^```[a-z]*\n?/, '').replace(/\n?```$/, ''));

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
      examples: examplesOf(r),
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
const badExamples = typecheck ? await typecheckExamples(entries) : 0;
process.exit(missing.length > 0 || undocumentedEntries.length > 0 || badExamples > 0 ? 1 : 0);

/**
 * Compiles each example as its own module (imports on top, the rest in an async function) with the
 * repo's compiler options. Pass 1 finds the example's free identifiers (`seed`, `hub`…) and declares
 * them `any`; pass 2 reports what is left: wrong imports, unknown members, wrong argument types.
 */
async function typecheckExamples(list) {
  const ts = (await import('typescript')).default;
  const dir = join(root, 'node_modules', '.cache', 'aitbc-doc-examples');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const owners = new Map();
  const sources = new Map();
  for (const e of list) {
    e.examples.forEach((code, i) => {
      const lines = code.split('\n');
      const top = (l) => l.startsWith('import ') || l.startsWith('declare ');
      const imports = lines.filter(top);
      const body = lines.filter((l) => !top(l));
      const file = join(dir, `ex${owners.size}.mts`);
      owners.set(file, `${e.module}: ${e.name} (${e.kind})${e.examples.length > 1 ? ` example ${i + 1}` : ''}`);
      sources.set(file, { imports, body, free: new Set() });
    });
  }
  const config = ts.parseJsonConfigFileContent(
    { extends: join(root, 'tsconfig.base.json'), compilerOptions: { noEmit: true, noImplicitAny: false } },
    ts.sys,
    dir,
  );
  const FREE = new Set([2304, 2552, 18004]); // cannot find name / did you mean / shorthand without a value
  const ARTIFACTS = new Set([2347]); // type arguments on a call of a free (any) identifier
  let diagnostics = [];
  for (let pass = 1; pass <= 2; pass++) {
    for (const [file, src] of sources) {
      const declares = [...src.free].map((n) => `declare let ${n}: any;`);
      const text = [...src.imports, ...declares, 'export async function example(): Promise<void> {', ...src.body, '}'];
      writeFileSync(file, `${text.join('\n')}\n`);
    }
    const program = ts.createProgram([...sources.keys()], config.options);
    diagnostics = ts
      .getPreEmitDiagnostics(program)
      .filter((d) => d.file !== undefined && sources.has(d.file.fileName) && !ARTIFACTS.has(d.code));
    if (pass === 1) {
      for (const d of diagnostics) {
        if (!FREE.has(d.code) || d.start === undefined) continue;
        const name = d.file.text.slice(d.start, d.start + (d.length ?? 0));
        if (/^[A-Za-z_$][\w$]*$/.test(name)) sources.get(d.file.fileName).free.add(name);
      }
    }
  }
  for (const d of diagnostics) {
    const src = sources.get(d.file.fileName);
    const { line } = d.file.getLineAndCharacterOfPosition(d.start ?? 0);
    const code = d.file.text.split('\n')[line]?.trim();
    console.log(
      `example does not compile: ${owners.get(d.file.fileName)}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`,
    );
    if (code !== undefined && src !== undefined) console.log(`    ${code}`);
  }
  console.log(`${diagnostics.length} compile errors in ${sources.size} examples`);
  return diagnostics.length;
}
