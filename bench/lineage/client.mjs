/*
 * The HTTP client of the lineage benchmark, in its own process (as a browser or another platform
 * would be), so that its work does not share the backend's event loop. Like wrk or autocannon it
 * times each GET until the last byte of the body arrived, over one keep-alive connection, with
 * node:http (Node's fetch adds its own stream and decoding work, about a millisecond per MB).
 *
 *   node bench/lineage/client.mjs <url> <iterations> <warmup> [<patch url>]
 *
 * With a patch URL (a model version no service serves), every GET follows a PATCH of its state
 * there (untimed; archived and live in turn, and live at the end): a registry write of the start's
 * model that the answer shows, so the cached answer is invalid and the GET computes it again.
 * Prints the samples (ms), the last body's length and the number of distinct ETags as JSON.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';

const [url, iterations, warmup, patchUrl] = process.argv.slice(2);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function request(target, method = 'GET', body = undefined) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      target,
      {
        agent,
        method,
        headers: body
          ? {
              'content-type': 'application/json',
              'content-length': Buffer.byteLength(body),
            }
          : {},
      },
      response => {
        const chunks = [];
        response.on('data', chunk => chunks.push(chunk));
        response.on('end', () => {
          const data = Buffer.concat(chunks);
          if (response.statusCode !== 200) {
            reject(
              new Error(`${method} ${target}: ${response.statusCode} ${data}`),
            );
          } else {
            resolve({ body: data, etag: response.headers.etag });
          }
        });
        response.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const setState = state => request(patchUrl, 'PATCH', JSON.stringify({ state }));

const samples = [];
const etags = new Set();
let length = 0;
for (let i = 0; i < Number(warmup) + Number(iterations); i++) {
  if (patchUrl) {
    await setState(i % 2 === 0 ? 'archived' : 'live');
  }
  const start = performance.now();
  const { body, etag } = await request(url);
  const ms = performance.now() - start;
  if (i >= Number(warmup)) {
    samples.push(ms);
    etags.add(etag);
  }
  length = body.length;
}
// the version as it was before (the benchmark checks the answer did not change)
if (patchUrl) await setState('live');
agent.destroy();
console.log(JSON.stringify({ samples, length, etags: etags.size }));
