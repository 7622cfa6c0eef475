import { InFlightBatches } from './inFlightBatches';

/** A sender whose rounds wait until `release()`; answers each item doubled, fails on negatives. */
function gatedSender() {
  const rounds: Array<{ items: number[]; context: string }> = [];
  let gates: Array<() => void> = [];
  const send = async (items: number[], context: string) => {
    rounds.push({ items, context });
    await new Promise<void>(resolve => gates.push(resolve));
    if (items.some(i => i < 0))
      throw new Error(`negative in ${items.join(',')}`);
    return items.map(i => i * 2);
  };
  const release = async () => {
    for (let i = 0; i < 5; i++) {
      const open = gates;
      gates = [];
      open.forEach(go => go());
      await new Promise(resolve => setImmediate(resolve));
    }
  };
  return { send, rounds, release };
}

describe('InFlightBatches', () => {
  it('sends an idle lane’s request at once and what arrives meanwhile together in the next round', async () => {
    const sender = gatedSender();
    const batches = new InFlightBatches(sender.send);
    const first = batches.run('alice', [1], 'ctx-1');
    const second = batches.run('alice', [2, 3], 'ctx-2');
    const third = batches.run('alice', [4], 'ctx-3');
    expect(sender.rounds).toEqual([{ items: [1], context: 'ctx-1' }]);
    await sender.release();
    expect(sender.rounds[1]).toEqual({ items: [2, 3, 4], context: 'ctx-2' });
    await expect(first).resolves.toEqual([2]);
    await expect(second).resolves.toEqual([4, 6]);
    await expect(third).resolves.toEqual([8]);
  });

  it('keeps lanes apart', async () => {
    const sender = gatedSender();
    const batches = new InFlightBatches(sender.send);
    const a = batches.run('alice', [1], 'alice');
    const b = batches.run('bob', [1], 'bob');
    expect(sender.rounds.map(r => r.context)).toEqual(['alice', 'bob']);
    await sender.release();
    await expect(Promise.all([a, b])).resolves.toEqual([[2], [2]]);
  });

  it('sends each distinct item once per round with `dedupe`', async () => {
    const sender = gatedSender();
    const batches = new InFlightBatches(sender.send, { dedupe: String });
    const busy = batches.run('alice', [9], 'ctx');
    const x = batches.run('alice', [1, 2, 1], 'ctx');
    const y = batches.run('alice', [2], 'ctx');
    await sender.release();
    expect(sender.rounds[1].items).toEqual([1, 2]);
    await expect(Promise.all([busy, x, y])).resolves.toEqual([
      [18],
      [2, 4, 2],
      [4],
    ]);
  });

  it('fails the whole round by default', async () => {
    const sender = gatedSender();
    const batches = new InFlightBatches(sender.send);
    const outcomes = Promise.allSettled([
      batches.run('alice', [1], 'ctx'),
      batches.run('alice', [2], 'ctx'),
      batches.run('alice', [-1], 'ctx'),
    ]);
    await sender.release();
    const [busy, good, bad] = await outcomes;
    expect(busy).toEqual({ status: 'fulfilled', value: [2] });
    expect(good).toMatchObject({
      status: 'rejected',
      reason: new Error('negative in 2,-1'),
    });
    expect(bad).toMatchObject({
      status: 'rejected',
      reason: new Error('negative in 2,-1'),
    });
  });
});
