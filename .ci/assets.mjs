// Publishes one build of the console into the site's pkg/<build id>/ folder:
// the id is a hash of every file in the build, so browsers may cache them
// forever, and each file gets a brotli and a gzip copy beside it, so the
// server sends them compressed without compressing on every request. Used by
// lib.sh's publish_console.
// Usage: node .ci/assets.mjs <staging dir> <site root>
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import crypto from 'node:crypto';

const [staging, site] = process.argv.slice(2);

// Let the server preload a deep-linked page's group: Leptos reads, from
// `__wasm_split_manifest.json`, which modules each lazy function needs, and
// links them from the page it renders, beside the split loader under the
// name it expects. wasm-split's command line writes neither, so both are
// derived here from the loader it wrote.
const LOADER = '__wasm_split.js';
const LEPTOS_LOADER = '__wasm_split.______________________.js';
const loader = fs.readFileSync(path.join(staging, LOADER), 'utf8');
const fileOf = new Map();
const depsOf = new Map();
const load = /(?:export )?const (\w+) = (?:wrapAsyncCb\()?makeLoad\(\(\) => \{\s*const src = fetch\(new URL\("\.\/([\w.]+)\.wasm"[\s\S]*?\n, \[([\w, ]*)\]/g;
for (const [, name, file, deps] of loader.matchAll(load)) {
  fileOf.set(name, file);
  depsOf.set(name, deps.split(',').map((d) => d.trim()).filter(Boolean));
}
const manifest = {};
for (const name of fileOf.keys()) {
  if (!name.startsWith('__wasm_split_load_')) continue;
  const modules = new Set();
  const visit = (n) => {
    if (modules.has(fileOf.get(n))) return;
    modules.add(fileOf.get(n));
    for (const d of depsOf.get(n)) visit(d);
  };
  visit(name);
  manifest[name.slice('__wasm_split_load_'.length)] = [...modules];
}
if (Object.keys(manifest).length === 0) {
  throw new Error(`no split points found in ${LOADER}: has wasm-split's output changed?`);
}
fs.writeFileSync(path.join(staging, '__wasm_split_manifest.json'), JSON.stringify(manifest, null, 1));
// wasm-split lists the shell's shared exports in hash-map order, which varies
// from run to run; sorted, the same WASM publishes under the same id, and
// browsers keep what they cached.
fs.writeFileSync(path.join(staging, LOADER), loader.replace(
  /(const \{|Object\.assign\(sharedImports\.__wasm_split, \{)([\w, ]*?),\s*\}/g,
  (_, head, names) => `${head} ${names.split(',').map((n) => n.trim()).filter(Boolean).sort().join(', ')}, }`,
));
const shellJs = fs.readFileSync(path.join(staging, 'steward.js'), 'utf8');
const renamed = shellJs.replaceAll(`from "./${LOADER}"`, `from "./${LEPTOS_LOADER}"`);
if (renamed === shellJs) throw new Error(`steward.js does not import ${LOADER}`);
fs.writeFileSync(path.join(staging, 'steward.js'), renamed);
fs.renameSync(path.join(staging, LOADER), path.join(staging, LEPTOS_LOADER));
// The split pages name each other and the shell by relative paths, so the
// files keep their names and the build's hash names their folder.
const parts = fs.readdirSync(staging)
  .filter((f) => /\.(js|wasm|css|json)$/.test(f))
  .sort();
const hash = crypto.createHash('sha256');
for (const part of parts) {
  hash.update(part);
  hash.update(fs.readFileSync(path.join(staging, part)));
}
const id = hash.digest('hex').slice(0, 16);

const pkg = path.join(site, 'pkg');
const dir = path.join(pkg, id);
fs.rmSync(dir, { recursive: true, force: true });
fs.mkdirSync(dir, { recursive: true });
for (const part of parts) {
  const body = fs.readFileSync(path.join(staging, part));
  const target = path.join(dir, part);
  fs.writeFileSync(target, body);
  fs.writeFileSync(`${target}.br`, zlib.brotliCompressSync(body, {
    params: {
      [zlib.constants.BROTLI_PARAM_QUALITY]: 11,
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: body.length,
    },
  }));
  fs.writeFileSync(`${target}.gz`, zlib.gzipSync(body, { level: 9 }));
}
// The server reads the id at start-up and puts it in every page it renders.
fs.writeFileSync(path.join(site, 'build-id'), `${id}\n`);
// A tab opened before an upgrade still fetches page groups of its own build
// on first visit, so the two builds before this one stay; older ones and
// anything else in pkg/ go.
const builds = fs.readdirSync(pkg, { withFileTypes: true })
  .filter((e) => e.name !== id)
  .map((e) => ({ name: e.name, dir: e.isDirectory(), at: fs.statSync(path.join(pkg, e.name)).mtimeMs }))
  .sort((a, b) => b.at - a.at);
for (const [i, e] of builds.entries()) {
  if (!e.dir || !/^[0-9a-f]{16}$/.test(e.name) || i >= 2) {
    fs.rmSync(path.join(pkg, e.name), { recursive: true, force: true });
  }
}

const size = (f) => fs.statSync(path.join(dir, f)).size;
const kib = (n) => `${(n / 1024).toFixed(0)} KiB`;
const pages = parts.filter((f) => f.endsWith('.wasm') && f !== 'steward_bg.wasm');
const pagesSize = pages.reduce((sum, f) => sum + size(f), 0);
const pagesBr = pages.reduce((sum, f) => sum + size(`${f}.br`), 0);
console.log(`console assets: pkg/${id}: shell wasm ${kib(size('steward_bg.wasm'))} `
  + `(${kib(size('steward_bg.wasm.br'))} with brotli), ${pages.length} split modules `
  + `${kib(pagesSize)} (${kib(pagesBr)} with brotli)`);
