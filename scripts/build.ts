/**
 * Builds every publishable package to its dist/ (issue 12), in dependency order: each package
 * compiles against the declarations of the ones before it, exactly as an installed copy would.
 * dist/ is emptied first so a renamed or deleted source never ships as a stale file.
 *
 *   npm run build
 */
import { execFileSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';

/** Dependencies first: protocol ← verifier, client ← server ← cli. */
export const PACKAGES = ['protocol', 'verifier', 'client', 'server', 'cli'] as const;

const root = new URL('../', import.meta.url);
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

export function build(): void {
  for (const name of PACKAGES) {
    const dir = new URL(`packages/${name}/`, root);
    rmSync(new URL('dist/', dir), { recursive: true, force: true });
    execFileSync(process.execPath, [tsc, '-p', new URL('tsconfig.build.json', dir).pathname], {
      stdio: 'inherit',
    });
  }
  // The demo page's HTML, CSS and script are files the server reads at start, not modules.
  const server = new URL('packages/server/', root);
  cpSync(new URL('src/demo/', server), new URL('dist/demo/', server), { recursive: true });
}

if (import.meta.main) build();
