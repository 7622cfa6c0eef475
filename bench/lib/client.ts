/*
 * Latencies of one GET from a client process of its own (../retention/client.mjs, over one
 * keep-alive connection), so the client's work does not share the backend's event loop.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/**
 * GETs `url` after `warmup` requests until `stopFile` exists or `maxSeconds` passed; the client
 * creates `readyFile` (when given) once warm. Returns the samples in ms.
 */
export async function clientLatencies(options: {
  url: string;
  stopFile: string;
  maxSeconds: number;
  warmup: number;
  readyFile?: string;
}): Promise<number[]> {
  const { stdout } = await execFileAsync(
    process.execPath,
    [
      path.resolve(__dirname, '../retention/client.mjs'),
      options.url,
      options.stopFile,
      String(options.maxSeconds),
      String(options.warmup),
      ...(options.readyFile ? [options.readyFile] : []),
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  return JSON.parse(stdout).samples as number[];
}
