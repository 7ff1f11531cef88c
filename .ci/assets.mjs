// Publishes the console's built assets into the site's pkg/ folder: names them
// by a hash of their content, so browsers may cache them forever, and writes a
// brotli and a gzip copy beside each, so the server sends them compressed
// without compressing on every request. Used by lib.sh's build_all.
// Usage: node .ci/assets.mjs <staging dir> <site root>
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import crypto from 'node:crypto';

const [staging, site] = process.argv.slice(2);
const parts = ['steward.js', 'steward_bg.wasm', 'steward.css'];
const hash = crypto.createHash('sha256');
for (const part of parts) hash.update(fs.readFileSync(path.join(staging, part)));
const name = `steward-${hash.digest('hex').slice(0, 16)}`;

const pkg = path.join(site, 'pkg');
fs.rmSync(pkg, { recursive: true, force: true });
fs.mkdirSync(pkg, { recursive: true });
for (const part of parts) {
  const body = fs.readFileSync(path.join(staging, part));
  const target = path.join(pkg, part.replace('steward', name));
  fs.writeFileSync(target, body);
  fs.writeFileSync(`${target}.br`, zlib.brotliCompressSync(body, {
    params: {
      [zlib.constants.BROTLI_PARAM_QUALITY]: 11,
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: body.length,
    },
  }));
  fs.writeFileSync(`${target}.gz`, zlib.gzipSync(body, { level: 9 }));
}
// The server reads the name at start-up and puts it in every page it renders.
fs.writeFileSync(path.join(site, 'output-name'), `${name}\n`);
const size = (f) => fs.statSync(path.join(pkg, f)).size;
const wasm = `${name}_bg.wasm`;
console.log(`console assets: ${name} (wasm ${(size(wasm) / 1024).toFixed(0)} KiB, ${(size(`${wasm}.br`) / 1024).toFixed(0)} KiB with brotli)`);
