/*
 * How concurrent single requests share credential Secrets: alone, a run keeps a Secret of its own;
 * planned while others of its namespace are in flight, it joins their group; a group is written
 * once, when all its members are ready or released, with the ready ones; a member later than the
 * group's wait merges itself in; nothing waits for a member that never comes.
 */
import { CredentialSecretGroups } from './credentialSecretGroups';

function groups(settleMs = 10_000) {
  const writes: Array<{ cluster: string; members: string[] }> = [];
  const late: string[] = [];
  const g = new CredentialSecretGroups<string>({
    write: async (cluster, members) => {
      writes.push({ cluster, members: [...members].sort() });
    },
    writeLate: async (_cluster, member) => {
      late.push(member);
    },
    maxMembers: 3,
    settleMs,
  });
  return { g, writes, late };
}

describe('CredentialSecretGroups', () => {
  it('gives a run alone a Secret of its own, and a run planned beside it the group of the others', async () => {
    const { g, writes } = groups();
    expect(g.join('local', 'ns', 'r1')).toBeUndefined();
    const r2 = g.join('local', 'ns', 'r2');
    const r3 = g.join('local', 'ns', 'r3');
    expect(r2).toEqual({
      secretName: expect.stringMatching(/^kubeai-runs-[0-9a-f]{16}$/),
      secretKey: 'r2',
    });
    expect(r3).toEqual({ secretName: r2!.secretName, secretKey: 'r3' });
    // another namespace, or another cluster, is another place
    expect(g.join('local', 'other', 'r4')).toBeUndefined();
    expect(g.join('prod', 'ns', 'r5')).toBeUndefined();
    expect([g.grouped('r1'), g.grouped('r2'), g.grouped('r4')]).toEqual([
      false,
      true,
      false,
    ]);

    // written once, with the ready members, when the last one is ready or released
    let r2Done = false;
    const r2Ready = g.ready('r2', 'r2').then(() => (r2Done = true));
    await new Promise(r => setImmediate(r));
    expect([r2Done, writes]).toEqual([false, []]);
    g.release('r3');
    await r2Ready;
    expect(writes).toEqual([{ cluster: 'local', members: ['r2'] }]);
  });

  it('closes a group to newcomers once a member is ready, and caps its size', async () => {
    const { g, writes } = groups();
    g.join('local', 'ns', 'first');
    const a = g.join('local', 'ns', 'a')!;
    const b = g.join('local', 'ns', 'b')!;
    const ready = g.ready('a', 'a');
    const c = g.join('local', 'ns', 'c')!;
    expect(c.secretName).not.toBe(a.secretName);
    expect(b.secretName).toBe(a.secretName);
    const d = g.join('local', 'ns', 'd')!;
    const e = g.join('local', 'ns', 'e')!;
    // at most three per Secret
    const f = g.join('local', 'ns', 'f')!;
    expect([d.secretName, e.secretName]).toEqual([c.secretName, c.secretName]);
    expect(f.secretName).not.toBe(c.secretName);
    await Promise.all([
      ready,
      g.ready('b', 'b'),
      ...['c', 'd', 'e', 'f'].map(x => g.ready(x, x)),
    ]);
    expect(writes.map(w => w.members)).toEqual([
      ['a', 'b'],
      ['c', 'd', 'e'],
      ['f'],
    ]);
  });

  it('writes a closed group after its wait without the members still missing, which merge in later', async () => {
    const { g, writes, late } = groups(50);
    g.join('local', 'ns', 'first');
    g.join('local', 'ns', 'quick');
    g.join('local', 'ns', 'slow');
    g.join('local', 'ns', 'never');
    await g.ready('quick', 'quick');
    expect(writes).toEqual([{ cluster: 'local', members: ['quick'] }]);
    await g.ready('slow', 'slow');
    expect(late).toEqual(['slow']);
    g.release('never');
    g.release('first');
    // nothing is in flight any more: the next run is alone again
    expect(g.join('local', 'ns', 'next')).toBeUndefined();
  });

  it('writes nothing for a group whose members were all released, and tells every member a failed write', async () => {
    const failing = new CredentialSecretGroups<string>({
      write: async () => {
        throw new Error('apiserver down');
      },
      writeLate: async () => {},
    });
    failing.join('local', 'ns', 'first');
    failing.join('local', 'ns', 'x');
    failing.join('local', 'ns', 'y');
    const x = failing.ready('x', 'x');
    const y = failing.ready('y', 'y');
    await expect(x).rejects.toThrow('apiserver down');
    await expect(y).rejects.toThrow('apiserver down');

    const { g, writes } = groups();
    g.join('local', 'ns', 'first');
    g.join('local', 'ns', 'p');
    g.join('local', 'ns', 'q');
    g.release('p');
    g.release('q');
    await new Promise(r => setImmediate(r));
    expect(writes).toEqual([]);
  });
});
