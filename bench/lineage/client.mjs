/*
 * The HTTP client of the lineage benchmark, in its own process (as a browser or another platform
 * would be), so that its work does not share the backend's event loop. Like wrk or autocannon it
 * times each GET until the last byte of the body arrived, over one keep-alive connection, with
 * node:http (Node's fetch adds its own stream and decoding work, about a millisecond per MB).
 *
 *   node bench/lineage/client.mjs <url> <iterations> <warmup>
 *
 * Prints the samples (ms) and the last body's length as JSON.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';

const [url, iterations, warmup] = process.argv.slice(2);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function get(target) {
  return new Promise((resolve, reject) => {
    const request = http.get(target, { agent }, response => {
      const chunks = [];
      response.on('data', chunk => chunks.push(chunk));
      response.on('end', () => {
        const body = Buffer.concat(chunks);
        if (response.statusCode !== 200) {
          reject(new Error(`GET ${target}: ${response.statusCode} ${body}`));
        } else {
          resolve(body);
        }
      });
      response.on('error', reject);
    });
    request.on('error', reject);
  });
}

const samples = [];
let length = 0;
for (let i = 0; i < Number(warmup) + Number(iterations); i++) {
  const start = performance.now();
  const body = await get(url);
  const ms = performance.now() - start;
  if (i >= Number(warmup)) samples.push(ms);
  length = body.length;
}
agent.destroy();
console.log(JSON.stringify({ samples, length }));
