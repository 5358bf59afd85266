import { Cluster, Redis } from 'ioredis';
import { Agent, request } from 'node:http';
import { RedisKeys } from '../../src/redis/redis-keys';

/** One feed page as the probe saw it. */
interface Page {
  second: number;
  /** The user's own keys are on the master that was shut down. */
  onKilled: boolean;
  status: number;
  personalised: boolean;
  fallbacks: string[];
  sources: string[];
}

export interface FailoverProbeOptions {
  port: number;
  adminKey: string;
  redis: Cluster;
  keys: RedisKeys;
  /** `host:port` of the master to shut down (SHUTDOWN NOSAVE). */
  killMaster: string;
  users: { id: string; token: string }[];
  perSecond: number;
  killAfterSeconds: number;
  seconds: number;
  /** modelVersion of a page that is not ranked for the user (FALLBACK_VERSION). */
  fallbackVersion: string;
}

/** The `host:port` of the master serving each key's slot now. */
async function mastersOf(redis: Cluster, keys: string[]): Promise<string[]> {
  const ranges = await redis.cluster('SLOTS');
  return Promise.all(
    keys.map(async (key) => {
      const slot = Number(await redis.cluster('KEYSLOT', key));
      const [, , [host, port]] = ranges.find(([from, to]) => slot >= from && slot <= to)!;
      return `${host}:${port}`;
    }),
  );
}

function shutDown(address: string): void {
  const [host, port] = address.split(':');
  const victim = new Redis({ host, port: Number(port), lazyConnect: true, retryStrategy: () => null });
  victim.on('error', () => undefined);
  void victim
    .connect()
    .then(() => victim.call('SHUTDOWN', 'NOSAVE'))
    .catch(() => undefined)
    .finally(() => victim.disconnect());
}

/**
 * Feeds with `explain=true` at a fixed rate, round-robin over the users, for `seconds`;
 * after `killAfterSeconds` the master is shut down. Every page is classed by whether the
 * user's own keys were on that master and whether it was ranked for the user, with its
 * fallback reasons and item sources: a table per second and per phase.
 */
export async function failoverProbe(o: FailoverProbeOptions): Promise<string> {
  const owners = await mastersOf(o.redis, o.users.map((u) => o.keys.userFeatures(u.id)));
  const onKilled = owners.map((m) => m === o.killMaster);
  if (!onKilled.includes(true)) throw new Error(`no probed user has its keys on ${o.killMaster} (masters: ${[...new Set(owners)].join(', ')})`);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const pages: Page[] = [];
  const t0 = performance.now();
  const killer = setTimeout(() => shutDown(o.killMaster), o.killAfterSeconds * 1000);
  const inFlight: Promise<void>[] = [];
  const total = Math.round(o.perSecond * o.seconds);
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / o.perSecond;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const u = i % o.users.length;
    const second = Math.floor((due - t0) / 1000);
    inFlight.push(
      new Promise<void>((resolve) => {
        const req = request(
          {
            agent,
            host: '127.0.0.1',
            port: o.port,
            path: '/v1/feed?limit=20&explain=true',
            headers: { authorization: `Bearer ${o.users[u].token}`, 'x-api-key': o.adminKey },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              const page: Page = { second, onKilled: onKilled[u], status: res.statusCode!, personalised: false, fallbacks: [], sources: [] };
              if (res.statusCode === 200) {
                const body = JSON.parse(Buffer.concat(chunks).toString()) as { items: { source: string }[]; explain: { modelVersion: string; fallbacks: string[] } };
                page.personalised = body.explain.modelVersion !== o.fallbackVersion;
                page.fallbacks = body.explain.fallbacks;
                page.sources = body.items.map((item) => item.source);
              }
              pages.push(page);
              resolve();
            });
          },
        );
        req.on('error', () => {
          pages.push({ second, onKilled: onKilled[u], status: 0, personalised: false, fallbacks: [], sources: [] });
          resolve();
        });
        req.end();
      }),
    );
  }
  await Promise.all(inFlight);
  clearTimeout(killer);
  agent.destroy();
  const after = await mastersOf(o.redis, o.users.map((u) => o.keys.userFeatures(u.id)));
  const moved = after.filter((m, i) => onKilled[i] && m !== o.killMaster);

  const count = (xs: string[]) => {
    const out = new Map<string, number>();
    for (const x of xs) out.set(x, (out.get(x) ?? 0) + 1);
    return [...out].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ') || '–';
  };
  const cell = (group: Page[]) => `${group.filter((p) => p.personalised).length} / ${group.filter((p) => p.status === 200 && !p.personalised).length} / ${group.filter((p) => p.status !== 200).length}`;
  const rows = [
    '| second | users on the killed master: personalised / degraded / non-200 | other users: personalised / degraded / non-200 | fallback reasons (pages) |',
    '|---|---|---|---|',
  ];
  for (let s = 0; s < o.seconds; s++) {
    const inSecond = pages.filter((p) => p.second === s);
    const mark = s === o.killAfterSeconds ? ' (shut down)' : '';
    rows.push(`| ${s}${mark} | ${cell(inSecond.filter((p) => p.onKilled))} | ${cell(inSecond.filter((p) => !p.onKilled))} | ${count(inSecond.flatMap((p) => p.fallbacks))} |`);
  }
  // Phases: before the shutdown, from it to the first second every user on it was ranked again, after that.
  const recovered = Array.from({ length: o.seconds }, (_, s) => s).find((s) => {
    if (s <= o.killAfterSeconds) return false;
    const theirs = pages.filter((p) => p.second === s && p.onKilled);
    return theirs.length > 0 && theirs.every((p) => p.personalised);
  });
  const phases: [string, (p: Page) => boolean][] = [
    ['before', (p) => p.second < o.killAfterSeconds],
    [`master down (${o.killAfterSeconds}–${(recovered ?? o.seconds) - 1} s)`, (p) => p.second >= o.killAfterSeconds && (recovered === undefined || p.second < recovered)],
    ['replica promoted', (p) => recovered !== undefined && p.second >= recovered],
  ];
  const summary = ['| phase | user | pages | personalised | fallback reasons | item sources |', '|---|---|---|---|---|---|'];
  for (const [name, inPhase] of phases) {
    for (const [who, mine] of [
      ['on the killed master', true],
      ['elsewhere', false],
    ] as const) {
      const group = pages.filter((p) => inPhase(p) && p.onKilled === mine);
      if (!group.length) continue;
      summary.push(`| ${name} | ${who} | ${group.length} | ${group.filter((p) => p.personalised).length} | ${count(group.flatMap((p) => p.fallbacks))} | ${count(group.flatMap((p) => p.sources))} |`);
    }
  }
  return [
    `${o.users.length} users, ${onKilled.filter(Boolean).length} with their keys on ${o.killMaster}; ${o.perSecond} feeds/s for ${o.seconds} s, ` +
      `master shut down at ${o.killAfterSeconds} s; ${moved.length} of those users' slots on another master at the end`,
    '',
    rows.join('\n'),
    '',
    summary.join('\n'),
  ].join('\n');
}
