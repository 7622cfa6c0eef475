/*
 * The HTTP client of the retention benchmark, in its own process (as a browser would be): GETs one
 * URL over one keep-alive connection (node:http), timing each until the last byte of the body,
 * until the file `stopFile` exists or `maxSeconds` passed, after `warmup` untimed requests.
 *
 *   node bench/retention/client.mjs <url> <stopFile> <maxSeconds> <warmup> [readyFile]
 *
 * Writes `readyFile` (if given) once warmed up, so the caller starts what it measures after that.
 *
 * Prints the samples (ms) and the number of resets retried as JSON.
 */
import http from 'node:http';
import { existsSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const [url, stopFile, maxSeconds, warmup, readyFile] = process.argv.slice(2);
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

/** GET, once more on a reset: the server may close an idle keep-alive socket as we reuse it. */
let resets = 0;
async function getRetrying(target) {
  try {
    return await get(target);
  } catch (error) {
    if (error.code !== 'ECONNRESET') throw error;
    resets++;
    return get(target);
  }
}

for (let i = 0; i < Number(warmup); i++) await getRetrying(url);
if (readyFile) writeFileSync(readyFile, '');
const samples = [];
const begin = performance.now();
let length = 0;
while (
  !existsSync(stopFile) &&
  performance.now() - begin < Number(maxSeconds) * 1000
) {
  const start = performance.now();
  const body = await getRetrying(url);
  samples.push(performance.now() - start);
  length = body.length;
}
agent.destroy();
console.log(JSON.stringify({ samples, length, resets }));
