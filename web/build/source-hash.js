// sourceHashPlugin writes dist/SOURCE.sha256: a digest of every input of
// the build (the files listed below). internal/dashboard's Go test computes
// the same digest from web/ and fails when the committed dist/ was built
// from other sources, so a change to web/ without a rebuild cannot land.
//
// The digest is SHA-256 over, for each file in byte order of its path
// relative to web/: the path, a NUL byte, the content, a NUL byte. Keep
// internal/dashboard/source_test.go in step with this.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const webDir = fileURLToPath(new URL('..', import.meta.url));

// inputs are the files and folders whose content decides the build.
export const inputs = ['index.html', 'package-lock.json', 'vite.config.js', 'build', 'src'];

function walk(path, out) {
  if (statSync(path).isDirectory()) {
    for (const name of readdirSync(path)) walk(join(path, name), out);
  } else {
    out.push(relative(webDir, path).split(sep).join('/'));
  }
}

export function sourceHash() {
  const files = [];
  for (const i of inputs) walk(join(webDir, i), files);
  files.sort((a, b) => (Buffer.from(a) < Buffer.from(b) ? -1 : 1));
  const h = createHash('sha256');
  for (const f of files) {
    h.update(f);
    h.update('\0');
    h.update(readFileSync(join(webDir, f)));
    h.update('\0');
  }
  return h.digest('hex');
}

export function sourceHashPlugin() {
  let outDir;
  return {
    name: 'aigateway-source-hash',
    apply: 'build',
    configResolved(c) {
      outDir = c.build.outDir;
    },
    closeBundle() {
      writeFileSync(join(outDir, 'SOURCE.sha256'), sourceHash() + '\n');
    },
  };
}
