import { EventLoopYielder } from './event-loop-yielder';

describe(EventLoopYielder.name, () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  const settled = async (p: Promise<void>) => {
    let done = false;
    void p.then(() => (done = true));
    await jest.advanceTimersByTimeAsync(0);
    return done;
  };

  it('pauses only once a slice of work has run', async () => {
    const y = new EventLoopYielder(20);
    jest.setSystemTime(1_000_019);
    expect(await settled(y.pauseIfDue())).toBe(true);
    jest.setSystemTime(1_000_020);
    const pause = y.pauseIfDue();
    expect(await settled(pause)).toBe(true); // a turn of the event loop, no wait
  });

  it('with a CPU share, waits after each slice for as long as keeps the loop to that share', async () => {
    const y = new EventLoopYielder(10, 0.25);
    jest.setSystemTime(1_000_012); // 12 ms of work: then 36 ms idle
    const pause = y.pause();
    expect(await settled(pause)).toBe(false);
    await jest.advanceTimersByTimeAsync(35);
    expect(await settled(pause)).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    expect(await settled(pause)).toBe(true);
    // The next slice starts after the wait.
    expect(y.due()).toBe(false);
  });
});
