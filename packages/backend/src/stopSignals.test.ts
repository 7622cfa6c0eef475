/*
 * A backend that gets its stop signal twice (backstage-cli's dev runner passes it on after the
 * terminal or a process-group signal delivered it) finishes its plugins' stop — with
 * stopOnFirstSignal(); without it, Backstage exits at the second signal, the stop unfinished.
 * Real processes: Backstage's backend wiring in a child process, real signals.
 */
import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

jest.setTimeout(60_000);

const root = path.resolve(__dirname, '../../..');

/** Starts the child, sends SIGTERM twice 100 ms apart once it is ready; its output and exit code. */
async function stopTwice(args: string[]) {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '--require',
      require.resolve('@backstage/cli/config/nodeTransform.cjs', {
        paths: [root],
      }),
      path.join(__dirname, '__testUtils__', 'signalledBackend.ts'),
      ...args,
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout!.on('data', chunk => {
    output += String(chunk);
  });
  child.stderr!.on('data', chunk => {
    output += String(chunk);
  });
  const exited = new Promise<number | null>(resolve =>
    child.on('exit', code => resolve(code)),
  );
  const deadline = Date.now() + 45_000;
  while (!output.includes('ready')) {
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`the backend did not start: ${output}`);
    }
    await new Promise(resolve => setTimeout(resolve, 50));
  }
  child.kill('SIGTERM');
  await new Promise(resolve => setTimeout(resolve, 100));
  child.kill('SIGTERM');
  return { code: await exited, output };
}

it('with stopOnFirstSignal, the second SIGTERM waits for the stop the first began', async () => {
  const { code, output } = await stopTwice(['--first-signal-only']);
  expect(output).toContain('stopped');
  expect(code).toBe(0);
});

it('without it, Backstage exits at the second SIGTERM before its plugins stopped (why it exists)', async () => {
  const { code, output } = await stopTwice([]);
  expect(output).not.toContain('stopped');
  expect(code).toBe(0);
});
