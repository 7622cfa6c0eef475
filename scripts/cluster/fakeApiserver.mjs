// Test helper (not a test): a local HTTPS server standing in for kube-apiserver, with a
// self-signed certificate for 127.0.0.1 made by openssl, recording every request.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';

export const haveOpenssl =
  spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0;

/**
 * Starts the server; `handler({ method, path, headers, body })` returns `{ status, body }` (body
 * sent as JSON unless a string). Resolves with { state, requests, close } where `state` is what
 * the modules take as cluster state ({ server, caFile, tokens }).
 */
export async function startFakeApiserver(handler) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubeai-fake-apiserver-'));
  const key = path.join(dir, 'tls.key');
  const cert = path.join(dir, 'tls.crt');
  const res = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' },
  );
  if (res.status !== 0) throw new Error(`openssl: ${res.stderr}`);
  const requests = [];
  const server = https.createServer(
    { key: fs.readFileSync(key), cert: fs.readFileSync(cert) },
    (req, resp) => {
      let text = '';
      req.on('data', d => (text += d));
      req.on('end', async () => {
        let body = text;
        try {
          body = text ? JSON.parse(text) : null;
        } catch {
          /* as text */
        }
        const request = {
          method: req.method,
          path: req.url,
          headers: req.headers,
          body,
        };
        requests.push(request);
        const out = await handler(request);
        const payload =
          typeof out.body === 'string' ? out.body : JSON.stringify(out.body);
        resp.writeHead(out.status, {
          'Content-Type':
            typeof out.body === 'string' ? 'text/plain' : 'application/json',
        });
        resp.end(payload);
      });
    },
  );
  await new Promise(r => server.listen(0, '127.0.0.1', r));
  const state = {
    server: `https://127.0.0.1:${server.address().port}`,
    caFile: cert,
    tokens: { admin: 'admin-token', restricted: 'restricted-token' },
  };
  return {
    state,
    requests,
    close: async () => {
      await new Promise(r => server.close(() => r()));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
