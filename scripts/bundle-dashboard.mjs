// Bundles the dashboard's browser code (src/dashboard/web) into dist/dashboard/web: app.js, app.css and
// index.html. Everything the page needs, the Natural Earth land included, is in these files: nothing is fetched
// from elsewhere at run time.
import { copyFile, mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const web = `${root}src/dashboard/web/`;
const out = `${root}dist/dashboard/web/`;

await mkdir(out, { recursive: true });
await build({
  entryPoints: { app: `${web}main.ts` },
  outdir: out,
  bundle: true,
  format: 'esm',
  target: ['chrome110', 'firefox110', 'safari16'],
  minify: true,
  legalComments: 'linked',
  loader: { '.json': 'json' },
  logLevel: 'warning',
});
await copyFile(`${web}index.html`, `${out}index.html`);
