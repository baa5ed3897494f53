import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../helpers/chromium.ts';
import { freePort } from '../../packages/server/test/helpers/server-process.ts';
import { startRegistry, type LocalRegistry } from './registry.ts';
import { nodeBinary, outsideEnv, run } from './shell.ts';

/**
 * Issue 12: the packages as a user meets them. Built and packed here, published to a loopback
 * registry, installed by name into projects outside the repository, then run on the oldest Node
 * of each line the libraries' `engines` promise (20.19, 22.12) and on Node 24, against a real
 * `tessera serve` that was itself installed with `npm install -g`.
 */

const ROOT = realpathSync(new URL('../../', import.meta.url));
const FIXTURE = join(import.meta.dirname, 'consumer');
const WORKSPACES = ['protocol', 'verifier', 'client', 'server', 'cli'];
/** The floors of `^20.19.0 || >=22.12.0`, where `require()` of ES modules works unflagged. */
const OLD_NODES = ['20.19.0', '22.12.0'];

interface Packed {
  name: string;
  filename: string;
  files: { path: string }[];
}

/** The version this repository itself locked, so a fixture installs what the repo already tests with. */
function lockedVersion(name: string): string {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as {
    version: string;
  };
  return manifest.version;
}

/** npm's own entry script, to run npm on another Node (npm checks `engines` against its own Node). */
function npmCli(): string {
  const fromScript = process.env['npm_execpath'];
  if (fromScript?.endsWith('.js')) return fromScript;
  const bin = (process.env['PATH'] ?? '').split(':').map((dir) => join(dir, 'npm'));
  for (const candidate of bin) {
    try {
      const real = realpathSync(candidate);
      if (real.endsWith('.js')) return real;
    } catch {
      // not in this directory
    }
  }
  throw new Error('npm-cli.js not found');
}

describe('the packages, installed from their tarballs outside the repository', { timeout: 600_000 }, () => {
  let work: string;
  let registry: LocalRegistry;
  let packed: Packed[];
  let nodes: { version: string; binary: string }[];
  let tessera: { url: string; child: ChildProcess };
  let page: { server: Server; url: string };
  let browser: Browser | undefined;

  const tarball = (name: string): string => {
    const found = packed.find((entry) => entry.name === `@tessera/${name}`);
    assert.ok(found, `@tessera/${name} was packed`);
    return join(work, 'packs', found.filename);
  };
  const install = (cwd: string, args: string[], node = process.execPath) =>
    run(
      node,
      [npmCli(), 'install', '--no-audit', '--no-fund', `--@tessera:registry=${registry.url}`, ...args],
      {
        cwd,
      },
    );

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'tessera-packaging-'));
    mkdirSync(join(work, 'packs'));
    await run(process.execPath, ['scripts/build.ts'], { cwd: ROOT, env: process.env });
    const pack = await run(
      'npm',
      [
        'pack',
        '--json',
        '--pack-destination',
        join(work, 'packs'),
        ...WORKSPACES.flatMap((name) => ['-w', `packages/${name}`]),
      ],
      { cwd: ROOT, env: process.env },
    );
    packed = JSON.parse(pack.stdout) as Packed[];
    registry = await startRegistry(WORKSPACES.map(tarball));
    const cache = join(ROOT, '.tmp', 'node');
    nodes = [
      ...(await Promise.all(
        OLD_NODES.map(async (version) => ({ version, binary: await nodeBinary(version, cache) })),
      )),
      { version: process.versions.node, binary: process.execPath },
    ];
    const [node20] = nodes;
    assert.ok(node20);

    // A service's project: the libraries and the tools a team builds with, installed by npm on
    // Node 20.19 with engine-strict, so an `engines` the libraries do not honour fails here.
    const consumer = join(work, 'consumer');
    cpSync(FIXTURE, consumer, { recursive: true });
    writeFileSync(
      join(consumer, 'package.json'),
      JSON.stringify({
        private: true,
        dependencies: {
          '@tessera/client': '0.1.0',
          '@tessera/verifier': '0.1.0',
          '@types/node': lockedVersion('@types/node'),
          esbuild: lockedVersion('esbuild'),
          typescript: lockedVersion('typescript'),
        },
      }),
    );
    // The notes example, copied out of the repository as a team would start from it.
    const example = join(work, 'notes-service');
    cpSync(join(ROOT, 'examples', 'notes-service'), example, {
      recursive: true,
      filter: (source) => !source.includes('node_modules'),
    });
    await Promise.all([
      install(consumer, ['--engine-strict'], node20.binary),
      install(example, ['--engine-strict']),
      install(work, ['--global', '--prefix', join(work, 'global'), '@tessera/cli@0.1.0']),
    ]);

    page = await startPageServer(join(consumer, 'public'));
    tessera = await serveInstalledCli(
      join(work, 'global', 'bin', 'tessera'),
      join(work, 'tessera.db'),
      page.url,
    );
  });

  after(async () => {
    await browser?.close();
    tessera?.child.kill('SIGTERM');
    page?.server.close();
    await registry?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('each tarball ships dist/ with declarations and maps, and no tests', () => {
    for (const name of WORKSPACES) {
      const entry = packed.find((candidate) => candidate.name === `@tessera/${name}`);
      assert.ok(entry, name);
      const paths = entry.files.map((file) => file.path);
      const main = name === 'cli' ? 'dist/main' : 'dist/index';
      for (const suffix of ['.js', '.js.map', '.d.ts', '.d.ts.map']) {
        assert.ok(paths.includes(`${main}${suffix}`), `${name} ships ${main}${suffix}`);
      }
      assert.deepEqual(
        paths.filter((path) => path.startsWith('test/') || path.includes('.test.')),
        [],
        `${name} ships no tests`,
      );
    }
    const server = packed.find((candidate) => candidate.name === '@tessera/server');
    assert.ok(server?.files.some((file) => file.path === 'dist/demo/index.html'));
  });

  test('publint and arethetypeswrong find nothing to fix', async () => {
    for (const name of WORKSPACES) {
      const lint = await run(
        join(ROOT, 'node_modules', '.bin', 'publint'),
        ['run', '--strict', tarball(name)],
        {
          cwd: work,
          allowFailure: true,
        },
      );
      assert.equal(lint.code, 0, `publint ${name}:\n${lint.stdout}${lint.stderr}`);
      // The CLI is a command, not a module: it has no exports for types to be wrong about.
      if (name === 'cli') continue;
      // ESM only, by decision (docs/design.md, "Packages"): CommonJS callers load it with require()
      // on the Node versions `engines` names, so attw's CJS-only resolutions do not apply.
      const types = await run(
        join(ROOT, 'node_modules', '.bin', 'attw'),
        [tarball(name), '--profile', 'esm-only', '--format', 'ascii'],
        { cwd: work, allowFailure: true },
      );
      assert.equal(types.code, 0, `attw ${name}:\n${types.stdout}${types.stderr}`);
    }
  });

  for (const [index, label] of [...OLD_NODES, '24'].entries()) {
    test(`Node ${label}: import and require of the SDK and the verifier check a real token`, async () => {
      const node = nodes[index];
      assert.ok(node);
      for (const script of ['verify.mjs', 'verify.cjs']) {
        const ran = await run(node.binary, [script], {
          cwd: join(work, 'consumer'),
          env: outsideEnv({ TESSERA_URL: tessera.url, TESSERA_ISSUER: tessera.url }),
        });
        const result = JSON.parse(ran.stdout.trim().split('\n').at(-1) ?? '') as Record<string, string>;
        assert.equal(result['node'], `v${node.version}`);
        assert.equal(result['loadedWith'], script === 'verify.mjs' ? 'import' : 'require');
        assert.equal(result['sub'], result['user'], 'the verified subject is the user who logged in');
        assert.equal(result['iss'], tessera.url);
        assert.equal(result['tampered'], 'invalid_token');
      }
    });
  }

  for (const resolution of ['nodenext', 'bundler']) {
    test(`a TypeScript consumer compiles with moduleResolution ${resolution}`, async () => {
      const consumer = join(work, 'consumer');
      const tsc = await run(
        process.execPath,
        [join(consumer, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', `tsconfig.${resolution}.json`],
        { cwd: consumer, allowFailure: true },
      );
      assert.equal(tsc.code, 0, tsc.stdout + tsc.stderr);
    });
  }

  test('the SDK bundled with esbuild signs a user up and in from Chromium', async () => {
    const consumer = join(work, 'consumer');
    await run(
      join(consumer, 'node_modules', '.bin', 'esbuild'),
      ['browser.js', '--bundle', '--format=esm', '--platform=browser', '--outfile=public/bundle.js'],
      { cwd: consumer },
    );
    browser = await launchChromium();
    const tab = await browser.newPage();
    await tab.goto(`${page.url}/?tessera=${encodeURIComponent(tessera.url)}`);
    await tab.waitForFunction(() => 'result' in globalThis, undefined, { timeout: 20_000 });
    const result = await tab.evaluate(
      () => (globalThis as unknown as { result: Record<string, string> }).result,
    );
    assert.match(result['email'] ?? JSON.stringify(result), /^browser-\d+@example\.test$/);
  });

  test('tessera serve from npm install -g answers, and its demo page loads the SDK it shipped', async () => {
    assert.equal((await fetch(`${tessera.url}/readyz`)).status, 200);
    const html = await (await fetch(`${tessera.url}/`)).text();
    const importMap = /<script type="importmap">(.*?)<\/script>/.exec(html)?.[1];
    assert.ok(importMap, 'the demo page has its import map');
    const { imports } = JSON.parse(importMap) as { imports: Record<string, string> };
    assert.deepEqual(Object.keys(imports).sort(), ['@tessera/client', '@tessera/protocol']);
    for (const path of Object.values(imports)) {
      assert.match(path, /\.js$/, 'an installed server serves the built JavaScript');
      const module = await fetch(`${tessera.url}${path}`);
      assert.equal(module.status, 200, path);
      assert.match(module.headers.get('content-type') ?? '', /javascript/);
    }
  });

  test('the notes example passes its own tests with the verifier from the tarball', async () => {
    const example = join(work, 'notes-service');
    const installed = JSON.parse(
      readFileSync(join(example, 'node_modules', '@tessera', 'verifier', 'package.json'), 'utf8'),
    ) as { version: string };
    assert.equal(installed.version, '0.1.0');
    const ran = await run(process.execPath, ['--test', '--test-reporter=tap'], {
      cwd: example,
      env: outsideEnv({ TESSERA_URL: tessera.url, TESSERA_ISSUER: tessera.url }),
      allowFailure: true,
    });
    assert.equal(ran.code, 0, ran.stdout + ran.stderr);
    assert.match(ran.stdout, /^# pass [1-9]/m);
    assert.match(ran.stdout, /^# fail 0$/m);
  });
});

/** Serves the browser fixture's page and bundle from their own origin. */
async function startPageServer(dir: string): Promise<{ server: Server; url: string }> {
  mkdirSync(dir, { recursive: true });
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://page').pathname;
    if (path === '/') {
      response.setHeader('content-type', 'text/html; charset=utf-8');
      response.end(readFileSync(join(dir, '..', 'index.html')));
    } else if (path === '/bundle.js') {
      response.setHeader('content-type', 'text/javascript; charset=utf-8');
      response.end(readFileSync(join(dir, 'bundle.js')));
    } else {
      response.statusCode = 404;
      response.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** `tessera serve` from the global install, on Node 24 found through PATH as a user's shell finds it. */
async function serveInstalledCli(
  bin: string,
  database: string,
  pageOrigin: string,
): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(bin, ['serve'], {
    env: outsideEnv({
      TESSERA_DATABASE_URL: `sqlite:${database}`,
      TESSERA_HOST: '127.0.0.1',
      TESSERA_PORT: String(port),
      TESSERA_ISSUER: url,
      TESSERA_CORS_ORIGINS: pageOrigin,
      TESSERA_LOG_LEVEL: 'warn',
    }),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`tessera serve exited ${child.exitCode}: ${stderr}`);
    try {
      if ((await fetch(`${url}/readyz`)).ok) return { url, child };
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`tessera serve did not become ready: ${stderr}`);
}
