/*
 * The HTTP client of the lineage benchmark, in its own process (as a browser or another platform
 * would be), so that its work does not share the backend's event loop.
 *
 *   node bench/lineage/client.mjs <url> <iterations> <warmup> [<patch url> <patch body>]
 *
 * Times GET <url> until the whole body is read; with a patch URL, sends that PATCH (untimed) before
 * every GET. Prints the samples (ms) as JSON, and the last body's length.
 */
import { performance } from 'node:perf_hooks';

const [url, iterations, warmup, patchUrl, patchBody] = process.argv.slice(2);

/** One retry: undici may reuse a keep-alive socket the server just closed. */
async function send(target, init) {
  let response;
  try {
    response = await fetch(target, init);
  } catch {
    response = await fetch(target, init);
  }
  const text = await response.text();
  if (!response.ok) {
    throw new Error(
      `${init?.method ?? 'GET'} ${target}: ${response.status} ${text}`,
    );
  }
  return text;
}

const patch = () =>
  send(patchUrl, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json' },
    body: patchBody.replace('{n}', String(Math.random())),
  });

const samples = [];
let length = 0;
for (let i = 0; i < Number(warmup) + Number(iterations); i++) {
  if (patchUrl) await patch();
  const start = performance.now();
  const body = await send(url);
  const ms = performance.now() - start;
  if (i >= Number(warmup)) samples.push(ms);
  length = body.length;
}
console.log(JSON.stringify({ samples, length }));
