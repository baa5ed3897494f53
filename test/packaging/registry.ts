import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename } from 'node:path';

/**
 * A loopback npm registry holding only the packed `@tessera/*` tarballs: a fixture installs them
 * by name and version, as from npmjs.com (`--@tessera:registry=<url>`), so a dependency the
 * tarballs fail to declare, or a file `files` leaves out, fails the install or the import. Every
 * other package comes from the real registry. It answers the two requests npm makes: the
 * packument (`GET /@tessera%2fverifier`) and the tarball.
 */
export interface LocalRegistry {
  url: string;
  close(): Promise<void>;
}

export async function startRegistry(tarballs: string[]): Promise<LocalRegistry> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;

  const packuments = new Map<string, string>();
  const files = new Map<string, Buffer>();
  for (const path of tarballs) {
    const tarball = readFileSync(path);
    const manifest = JSON.parse(
      execFileSync('tar', ['-xOzf', path, 'package/package.json'], { encoding: 'utf8' }),
    ) as { name: string; version: string };
    const file = basename(path);
    files.set(`/-/${file}`, tarball);
    const version = {
      ...manifest,
      _id: `${manifest.name}@${manifest.version}`,
      dist: {
        tarball: `${url}-/${file}`,
        shasum: createHash('sha1').update(tarball).digest('hex'),
        integrity: `sha512-${createHash('sha512').update(tarball).digest('base64')}`,
      },
    };
    const packument = JSON.stringify({
      name: manifest.name,
      'dist-tags': { latest: manifest.version },
      versions: { [manifest.version]: version },
    });
    packuments.set(manifest.name, packument);
  }

  server.on('request', (request, response) => {
    const path = request.url ?? '/';
    // npm asks for `/@tessera%2fverifier`.
    const packument = packuments.get(decodeURIComponent(path.slice(1)));
    const tarball = files.get(path);
    // Never cached by npm: each run packs new tarballs under the same versions.
    response.setHeader('cache-control', 'no-store');
    if (packument !== undefined) {
      response.setHeader('content-type', 'application/json');
      response.end(packument);
    } else if (tarball) {
      response.setHeader('content-type', 'application/octet-stream');
      response.end(tarball);
    } else {
      response.statusCode = 404;
      response.end('{"error":"not_found"}');
    }
  });

  return {
    url,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
