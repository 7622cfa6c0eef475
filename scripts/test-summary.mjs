// Prints the test run's summary: each step, then one line `N passed, N failed[, N skipped]`.
// Counts the tests of every suite (jest, Playwright) plus each non-test check (tsc, lint, build, setup).
// Exit code 0 only when nothing failed.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2] ?? 'test-results';
const readJson = file =>
  existsSync(join(dir, file)) ? JSON.parse(readFileSync(join(dir, file), 'utf8')) : undefined;

const steps = readFileSync(join(dir, 'steps.tsv'), 'utf8')
  .trim()
  .split('\n')
  .filter(Boolean)
  .map(line => {
    const [name, status, seconds] = line.split('\t');
    return { name, status, seconds: Number(seconds) };
  });

let passed = 0;
let failed = 0;
let skipped = 0;
const rows = [];

for (const step of steps) {
  if (step.name === 'jest') {
    const jest = readJson('jest.json');
    if (jest) {
      // Suites that failed to run at all (syntax error, crash) have no failed tests: count them.
      const brokenSuites = jest.testResults.filter(
        s => s.status === 'failed' && s.assertionResults.every(a => a.status !== 'failed'),
      ).length;
      passed += jest.numPassedTests;
      failed += jest.numFailedTests + brokenSuites;
      skipped += jest.numPendingTests + jest.numTodoTests;
      rows.push([step, `${jest.numPassedTests} passed, ${jest.numFailedTests + brokenSuites} failed in ${jest.numTotalTestSuites} suites`]);
      continue;
    }
  }
  if (step.name === 'e2e') {
    const e2e = readJson('e2e.json');
    if (e2e) {
      const { expected = 0, unexpected = 0, flaky = 0, skipped: s = 0 } = e2e.stats;
      passed += expected + flaky;
      failed += unexpected;
      skipped += s;
      if (step.status === 'failed' && unexpected === 0) failed += 1;
      rows.push([step, `${expected + flaky} passed, ${unexpected} failed`]);
      continue;
    }
  }
  if (step.name === 'scripts' && existsSync(join(dir, 'scripts.tap'))) {
    // node --test's TAP summary: "# pass N" / "# fail N" / "# skipped N"
    const tap = readFileSync(join(dir, 'scripts.tap'), 'utf8');
    const count = key => Number(tap.match(new RegExp(`^# ${key} (\\d+)$`, 'm'))?.[1] ?? 0);
    passed += count('pass');
    failed += count('fail') + count('cancelled') + (step.status === 'failed' && count('fail') === 0 ? 1 : 0);
    skipped += count('skipped') + count('todo');
    rows.push([step, `${count('pass')} passed, ${count('fail')} failed`]);
    continue;
  }
  if (step.status === 'passed') passed += 1;
  else failed += 1;
  rows.push([step, step.status]);
}

console.log('\nSummary');
for (const [step, text] of rows) {
  console.log(`  ${step.status === 'passed' ? 'ok  ' : 'FAIL'}  ${step.name.padEnd(16)} ${String(step.seconds).padStart(5)} s  ${text}`);
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed === 0 && steps.every(s => s.status === 'passed') ? 0 : 1);
