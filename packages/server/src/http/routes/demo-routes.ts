import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { stripTypeScriptTypes } from 'node:module';
import { basename } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { NotFoundError } from '@tessera/protocol';

/**
 * The demo page at `/` (issue 3): plain HTML, CSS and the client SDK itself. Installed, the SDK is
 * its published dist/ JavaScript; in the repository (the `@tessera/source` condition) it is the
 * TypeScript sources, served as JavaScript by Node's type stripper, so a clean clone needs no
 * build step. Every file
 * is read once at start from a fixed folder; a request can only name a file in that list, never a
 * path (no traversal), and the page runs under a CSP that allows nothing from elsewhere.
 */
const DEMO_DIR = new URL('../../demo/', import.meta.url);
// The SDK and the error codes it shares with the server, found the way Node finds the packages
// (issue 12): the folder of each package's entry module, whichever build that is.
const SDK_ENTRY = new URL(import.meta.resolve('@tessera/client'));
const PROTOCOL_ENTRY = new URL(import.meta.resolve('@tessera/protocol'));

/** Pages an emailed link opens, each `<name>.html` in the demo folder, served at `/<name>`. */
const LINK_PAGES = ['reset-password', 'verify-email', 'confirm-email', 'sign-in'] as const;

interface Asset {
  body: string;
  type: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.ts': 'text/javascript; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
};

function loadFolder(dir: URL): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(dir)) {
    const extension = name.slice(name.lastIndexOf('.'));
    const type = TYPES[extension];
    if (type === undefined || name.endsWith('.d.ts')) continue;
    const source = readFileSync(new URL(name, dir), 'utf8');
    assets.set(name, { type, body: extension === '.ts' ? stripTypes(source) : source });
  }
  return assets;
}

/**
 * `stripTypeScriptTypes` is marked experimental in Node 24 and prints an ExperimentalWarning on
 * stderr at every start, which operators read as a fault. Its output here is pinned by the demo
 * tests (the page runs in Chromium), so that one warning is kept out of the logs; every other
 * warning still goes through.
 */
function stripTypes(source: string): string {
  // Kept unbound on purpose: it is put back as it was, and called below with `process` as `this`.
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const emitWarning = process.emitWarning;
  process.emitWarning = function (this: NodeJS.Process, ...args: Parameters<typeof emitWarning>) {
    const [warning] = args;
    const text = typeof warning === 'string' ? warning : warning.message;
    if (text.includes('stripTypeScriptTypes')) return;
    emitWarning.apply(this, args);
  } as typeof emitWarning;
  try {
    return stripTypeScriptTypes(source);
  } finally {
    process.emitWarning = emitWarning;
  }
}

export function demoRoutes(app: FastifyInstance): void {
  const demo = loadFolder(DEMO_DIR);
  const folders = new Map([
    ['demo', demo],
    ['sdk', loadFolder(new URL('./', SDK_ENTRY))],
    ['protocol', loadFolder(new URL('./', PROTOCOL_ENTRY))],
  ]);
  const importMap = JSON.stringify({
    imports: {
      '@tessera/client': `/sdk/${basename(SDK_ENTRY.pathname)}`,
      '@tessera/protocol': `/protocol/${basename(PROTOCOL_ENTRY.pathname)}`,
    },
  });
  const page = demo
    .get('index.html')
    ?.body.replace('<!--IMPORT_MAP-->', `<script type="importmap">${importMap}</script>`);
  if (page === undefined) throw new Error('demo/index.html is missing');
  const importMapHash = createHash('sha256').update(importMap).digest('base64');
  const csp = [
    "default-src 'none'",
    `script-src 'self' 'sha256-${importMapHash}'`,
    "style-src 'self'",
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');

  // The demo is a page, not part of the API: left out of the OpenAPI document.
  app.get('/', { schema: { hide: true } }, async (_request, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .header('content-security-policy', csp)
      .header('cache-control', 'no-cache')
      .send(page),
  );

  // The pages emailed links open (`TESSERA_APP_URL` points links at an app's own instead).
  const pageCsp = csp.replace(/script-src [^;]+/, "script-src 'self'");
  for (const name of LINK_PAGES) {
    const linkPage = demo.get(`${name}.html`)?.body;
    if (linkPage === undefined) throw new Error(`demo/${name}.html is missing`);
    app.get(`/${name}`, { schema: { hide: true } }, async (_request, reply) =>
      reply
        .type('text/html; charset=utf-8')
        .header('content-security-policy', pageCsp)
        .header('referrer-policy', 'no-referrer')
        .header('cache-control', 'no-store')
        .send(linkPage),
    );
  }

  for (const [folder, assets] of folders) {
    app.get<{ Params: { file: string } }>(
      `/${folder}/:file`,
      {
        schema: {
          hide: true,
          params: { type: 'object', properties: { file: { type: 'string', maxLength: 64 } } },
        },
      },
      async (request, reply) => {
        const asset = assets.get(request.params.file);
        if (!asset) throw new NotFoundError();
        return reply.type(asset.type).header('cache-control', 'no-cache').send(asset.body);
      },
    );
  }
}
