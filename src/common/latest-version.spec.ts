import { Logger } from '@nestjs/common';
import { LatestVersion } from './latest-version';

describe(LatestVersion.name, () => {
  const logger = { log: jest.fn(), warn: jest.fn() } as unknown as Logger;
  const stored = new Map<string, { version: string; n: number }>();
  let newest = '';
  const read = async (version?: string) => stored.get(version ?? newest) ?? null;

  beforeEach(() => {
    stored.clear();
    stored.set('v1', { version: 'v1', n: 1 });
    stored.set('v2', { version: 'v2', n: 2 });
    newest = 'v1';
  });

  it('loads the newest, then a named version, releasing the one it replaces and skipping the one serving', async () => {
    const open = jest.fn(async (s: { n: number }) => ({ n: s.n }));
    const released: number[] = [];
    const loaded = new LatestVersion('thing', logger, read, open, () => '', async (old) => void released.push(old.n));
    await loaded.load();
    expect(loaded.version).toBe('v1');
    await loaded.load('v1');
    expect(open).toHaveBeenCalledTimes(1);
    await loaded.load('v2');
    expect(loaded.value).toEqual({ n: 2 });
    expect(released).toEqual([1]);
  });

  it('keeps serving the previous version when opening a new one fails, and loads one at a time', async () => {
    let opening = 0;
    let most = 0;
    const open = async (s: { version: string; n: number }) => {
      most = Math.max(most, ++opening);
      await new Promise((r) => setTimeout(r, 5));
      opening--;
      if (s.version === 'v2') throw new Error('corrupt');
      return { n: s.n };
    };
    const loaded = new LatestVersion('thing', logger, read, open, () => '');
    await Promise.all([loaded.load('v1'), loaded.load('v2')]);
    expect(most).toBe(1);
    expect(loaded.version).toBe('v1');
    expect(logger.warn).toHaveBeenCalledWith('thing not loaded, keeping the previous one: corrupt');
  });
});
