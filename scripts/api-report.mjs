#!/usr/bin/env node
// The public API report: api/express-oauth2-session.api.d.ts lists every name the package's two
// entry points ('express-oauth2-session' and 'express-oauth2-session/testing') export, each with
// its full declaration as tsc emits it, plus the module augmentations that come with the import
// and every non-exported type those declarations reach (consumers see them through the exports).
//
//   node scripts/api-report.mjs           write the report (npm run api:update)
//   node scripts/api-report.mjs --check   fail with a diff when the report is out of date (npm run api:check, part of npm run lint)
//
// Normalized so that only API changes change it: comments dropped, names sorted, `export` and
// `declare` rewritten the same way everywhere, private members left out, and for classes a
// consumer cannot construct (exported as a type only, or not exported) the constructor and static
// members left out too. Then formatted with the repo's Prettier config.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import prettier from 'prettier';
import ts from 'typescript';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const REPORT = path.join(root, 'api/express-oauth2-session.api.d.ts');
const ENTRIES = [
  ['express-oauth2-session', 'index.d.ts'],
  ['express-oauth2-session/testing', 'testing/index.d.ts'],
];

/** Emit lib/'s declarations into a temporary directory (the build's tsconfig, declarations only). */
function emitDeclarations() {
  const out = mkdtempSync(path.join(root, '.api-report-'));
  const args = ['-p', path.join(root, 'tsconfig.build.json'), '--emitDeclarationOnly', '--declarationMap', 'false', '--outDir', out];
  const tsc = spawnSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), ...args], { stdio: 'inherit' });
  if (tsc.status !== 0) {
    rmSync(out, { recursive: true, force: true });
    process.exit(tsc.status ?? 1);
  }
  return out;
}

function listDeclarationFiles(dir) {
  return readdirSync(dir, { recursive: true })
    .filter((f) => f.endsWith('.d.ts'))
    .map((f) => path.join(dir, f))
    .sort();
}

function buildReport(outDir) {
  const program = ts.createProgram(listDeclarationFiles(outDir), { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, types: [], noEmit: true, skipLibCheck: true });
  const checker = program.getTypeChecker();
  const ours = (node) => path.resolve(node.getSourceFile().fileName).startsWith(outDir + path.sep);
  const printer = ts.createPrinter({ removeComments: true, newLine: ts.NewLineKind.LineFeed });

  const resolve = (symbol) => (symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol);
  /** A type-only link anywhere in the re-export chain (`export type { … }`, `import { type … }`). */
  function isTypeOnlyExport(symbol) {
    for (let s = symbol; s && s.flags & ts.SymbolFlags.Alias; s = checker.getImmediateAliasedSymbol(s)) {
      for (const d of s.declarations ?? []) {
        if ((ts.isExportSpecifier(d) || ts.isImportSpecifier(d)) && (d.isTypeOnly || d.parent.parent.isTypeOnly)) return true;
        if (ts.isImportClause(d) && d.isTypeOnly) return true;
      }
    }
    return false;
  }
  const isValue = (symbol) => (resolve(symbol).flags & ts.SymbolFlags.Value) !== 0 && !isTypeOnlyExport(symbol);

  /** Top-level declarations of a symbol in our own files (a `const` as its whole statement). */
  function declarationsOf(symbol) {
    return (symbol.declarations ?? []).filter((d) => ours(d) && (ts.isSourceFile(d.parent) || (ts.isVariableDeclaration(d) && ts.isSourceFile(d.parent.parent.parent))));
  }

  const hasModifier = (node, kind) => (ts.canHaveModifiers(node) ? (ts.getModifiers(node) ?? []) : []).some((m) => m.kind === kind);
  /** Class members a consumer can use: never private ones; constructor and statics only when the class itself is exported as a value. */
  function isVisibleMember(member, constructible) {
    if (member.name && ts.isPrivateIdentifier(member.name)) return false;
    if (hasModifier(member, ts.SyntaxKind.PrivateKeyword)) return false;
    if (!constructible && (ts.isConstructorDeclaration(member) || hasModifier(member, ts.SyntaxKind.StaticKeyword))) return false;
    return true;
  }

  /** `decl` printed without comments, `export`, `declare` or hidden class members. */
  function print(decl, constructible) {
    const f = ts.factory;
    const keep = (mods) => (mods ?? []).filter((m) => m.kind !== ts.SyntaxKind.ExportKeyword && m.kind !== ts.SyntaxKind.DeclareKeyword && m.kind !== ts.SyntaxKind.DefaultKeyword);
    if (ts.isVariableDeclaration(decl)) {
      const keyword = decl.parent.flags & ts.NodeFlags.Const ? 'const' : decl.parent.flags & ts.NodeFlags.Let ? 'let' : 'var';
      return `${keyword} ${printer.printNode(ts.EmitHint.Unspecified, decl, decl.getSourceFile())};`;
    }
    let node = decl;
    if (ts.isClassDeclaration(decl)) {
      node = f.updateClassDeclaration(
        decl,
        keep(decl.modifiers),
        decl.name,
        decl.typeParameters,
        decl.heritageClauses,
        decl.members.filter((m) => isVisibleMember(m, constructible)),
      );
    } else if (ts.canHaveModifiers(decl)) {
      node = f.replaceModifiers(decl, keep(ts.getModifiers(decl)));
    }
    return printer.printNode(ts.EmitHint.Unspecified, node, decl.getSourceFile());
  }

  /** Top-level symbols of our own files that `decl` refers to (types, `typeof` values, base classes), skipping hidden class members. */
  function referencesOf(decl, self, constructible) {
    const found = new Set();
    const visit = (node) => {
      if (ts.isClassElement(node) && ts.isClassDeclaration(node.parent) && !isVisibleMember(node, constructible)) return;
      if (ts.isIdentifier(node)) {
        const symbol = checker.getSymbolAtLocation(node);
        const target = symbol && resolve(symbol);
        if (target && target !== self && declarationsOf(target).length > 0) found.add(target);
      }
      ts.forEachChild(node, visit);
    };
    ts.forEachChild(decl, visit);
    return found;
  }

  const exported = new Set();
  const sections = [];
  for (const [specifier, file] of ENTRIES) {
    const source = program.getSourceFile(path.join(outDir, file));
    if (!source) throw new Error(`no declarations for ${specifier} (${file})`);
    const names = checker.getExportsOfModule(checker.getSymbolAtLocation(source)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const s of names) exported.add(resolve(s));
    sections.push({ specifier, names });
  }

  const referenced = new Map();
  const pending = [];
  const note = (targets) => {
    for (const t of targets) {
      if (exported.has(t) || referenced.has(t)) continue;
      referenced.set(t, null);
      pending.push(t);
    }
  };

  const lines = [
    '// The public API of express-oauth2-session, generated by scripts/api-report.mjs from the emitted',
    '// declarations (comments and private members left out). Do not edit: after an intended API change,',
    '// run `npm run api:update` and commit this file with the change. `npm run lint` fails when it is out of date.',
    '',
  ];
  for (const { specifier, names } of sections) {
    const values = names.filter(isValue).map((s) => s.name);
    const types = names.filter((s) => !isValue(s)).map((s) => s.name);
    lines.push(`// ---- '${specifier}': ${names.length} exports`, `// Runtime (${values.length}): ${values.join(', ') || 'none'}`, `// Types only (${types.length}): ${types.join(', ') || 'none'}`);
    lines.push(`declare module '${specifier}' {`);
    for (const s of names) {
      const target = resolve(s);
      const value = isValue(s);
      const decls = declarationsOf(target);
      if (decls.length === 0) throw new Error(`${specifier}: cannot find the declaration of ${s.name}`);
      for (const d of decls) {
        const text = print(d, value);
        const typeOnlyValue = !value && (target.flags & ts.SymbolFlags.Value) !== 0;
        lines.push(typeOnlyValue ? `${text}` : `export ${text}`);
        note(referencesOf(d, target, value));
      }
      if (!value && (target.flags & ts.SymbolFlags.Value) !== 0) lines.push(`export type { ${target.name === s.name ? s.name : `${target.name} as ${s.name}`} };`);
      else if (target.name !== s.name) lines.push(`export { ${target.name} as ${s.name} };`);
    }
    lines.push('}', '');
  }

  // Referenced, not exported: follow them to a fixed point.
  while (pending.length > 0) {
    const t = pending.shift();
    const decls = declarationsOf(t);
    referenced.set(
      t,
      decls.map((d) => print(d, false)),
    );
    for (const d of decls) note(referencesOf(d, t, false));
  }
  const byName = [...referenced.entries()].map(([t, texts]) => ({ name: t.name, file: path.relative(outDir, declarationsOf(t)[0].getSourceFile().fileName).split(path.sep).join('/'), texts }));
  byName.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  const collides = (name) => byName.filter((r) => r.name === name).length > 1;
  lines.push(`// ---- Not exported, reached from the exports above (${byName.length})`);
  for (const r of byName) {
    if (collides(r.name)) lines.push(`// ${r.name} in ${r.file}`);
    lines.push(...r.texts.map((t) => `declare ${t}`));
  }
  lines.push('');

  // Module augmentations that come with the import (`declare global`, `declare module 'x'`).
  const augmentations = [];
  for (const sf of program.getSourceFiles().filter((f) => ours(f))) {
    for (const statement of sf.statements) {
      if (ts.isModuleDeclaration(statement) && (ts.isStringLiteral(statement.name) || statement.flags & ts.NodeFlags.GlobalAugmentation)) {
        augmentations.push({ file: path.relative(outDir, sf.fileName).split(path.sep).join('/'), text: printer.printNode(ts.EmitHint.Unspecified, statement, sf) });
      }
    }
  }
  augmentations.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.text < b.text ? -1 : 1));
  lines.push(`// ---- Module augmentations, applied by importing the package (${augmentations.length})`);
  for (const a of augmentations) lines.push(a.text.startsWith('declare') ? a.text : `declare ${a.text}`);
  return lines.join('\n') + '\n';
}

/** A unified diff of two texts (common prefix and suffix trimmed, then an LCS of the rest). */
function unifiedDiff(before, after, context = 3) {
  const a = before.split('\n');
  const b = after.split('\n');
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start += 1;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA -= 1;
    endB -= 1;
  }
  const x = a.slice(start, endA);
  const y = b.slice(start, endB);
  const lcs = Array.from({ length: x.length + 1 }, () => new Uint32Array(y.length + 1));
  for (let i = x.length - 1; i >= 0; i -= 1) for (let j = y.length - 1; j >= 0; j -= 1) lcs[i][j] = x[i] === y[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const ops = [];
  for (let i = 0; i < start; i += 1) ops.push([' ', a[i]]);
  let i = 0;
  let j = 0;
  while (i < x.length || j < y.length) {
    if (i < x.length && j < y.length && x[i] === y[j]) {
      ops.push([' ', x[i]]);
      i += 1;
      j += 1;
    } else if (i < x.length && (j === y.length || lcs[i + 1][j] >= lcs[i][j + 1])) ops.push(['-', x[i++]]);
    else ops.push(['+', y[j++]]);
  }
  for (let k = endA; k < a.length; k += 1) ops.push([' ', a[k]]);
  const shown = ops.map(() => false);
  ops.forEach(([op], k) => {
    if (op !== ' ') for (let m = Math.max(0, k - context); m <= Math.min(ops.length - 1, k + context); m += 1) shown[m] = true;
  });
  const out = [];
  ops.forEach(([op, line], k) => {
    if (!shown[k]) return;
    if (k > 0 && !shown[k - 1]) out.push('@@');
    out.push(`${op} ${line}`);
  });
  return out.join('\n');
}

const check = process.argv.includes('--check');
const outDir = emitDeclarations();
let report;
try {
  report = buildReport(outDir);
} finally {
  rmSync(outDir, { recursive: true, force: true });
}
report = await prettier.format(report, { ...(await prettier.resolveConfig(REPORT)), filepath: REPORT });
const relative = path.relative(root, REPORT);

if (check) {
  const current = existsSync(REPORT) ? readFileSync(REPORT, 'utf8') : '';
  if (current === report) {
    console.log(`${relative} is up to date.`);
  } else {
    console.error(unifiedDiff(current, report));
    console.error(
      `\nThe public API differs from ${relative} (- recorded, + now).\n` +
        'If this change is intended, run `npm run api:update` and commit the report with it; otherwise remove the export or change you did not mean to make.',
    );
    process.exit(1);
  }
} else {
  mkdirSync(path.dirname(REPORT), { recursive: true });
  writeFileSync(REPORT, report);
  console.log(`wrote ${relative}`);
}
