// Builds the visor (type check, then Vite) unless dist/ is newer than every source file, and
// writes a gzip copy of each script and stylesheet beside it (the gateway serves those to
// browsers that accept gzip). Run by `npm run build` and `npm start` after the TypeScript build.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const stamp = join(here, 'dist', '.built');
const force = process.argv.includes('--force');

function newest(path) {
  const s = statSync(path);
  if (!s.isDirectory()) {
    return s.mtimeMs;
  }
  return Math.max(s.mtimeMs, ...readdirSync(path).map((name) => newest(join(path, name))));
}

const inputs = ['src', 'index.html', 'vite.config.ts', 'package.json', 'tsconfig.json', 'build.mjs'].map((p) =>
  join(here, p),
);
// The contract types it checks against.
inputs.push(join(here, '..', '..', 'libs', 'contracts', 'src'));
if (!force && existsSync(stamp) && newest(stamp) >= Math.max(...inputs.map(newest))) {
  console.log('visor: up to date (apps/dashboard/dist)');
  process.exit(0);
}

const require = createRequire(import.meta.url);
const run = (args, what) => {
  const r = spawnSync(process.execPath, args, { cwd: here, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`visor: ${what} failed`);
    process.exit(r.status ?? 1);
  }
};
run([require.resolve('typescript/bin/tsc'), '--noEmit', '-p', 'tsconfig.json'], 'type check');
run(
  [join(dirname(require.resolve('vite/package.json')), 'bin', 'vite.js'), 'build', '--logLevel', 'warn'],
  'vite build',
);

const assets = join(here, 'dist', 'assets');
for (const name of readdirSync(assets)) {
  if (/\.(js|css)$/.test(name)) {
    const gz = gzipSync(readFileSync(join(assets, name)), { level: 9 });
    writeFileSync(join(assets, `${name}.gz`), gz);
  }
}
// What index.html names (the entry script and stylesheet); the first page's own chunk comes on top.
const html = readFileSync(join(here, 'dist', 'index.html'), 'utf8');
const sizes = { js: 0, css: 0 };
for (const [, file, ext] of html.matchAll(/(?:src|href)="\/assets\/([^"]+\.(js|css))"/g)) {
  sizes[ext] += statSync(join(assets, `${file}.gz`)).size;
}
writeFileSync(stamp, new Date().toISOString());
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
console.log(`visor: built apps/dashboard/dist (entry, gzipped: ${kb(sizes.js)} script, ${kb(sizes.css)} styles)`);
