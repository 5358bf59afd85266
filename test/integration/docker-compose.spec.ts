import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import yaml from 'js-yaml';

const ROOT = path.resolve(__dirname, '../..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

interface Service {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  environment?: Record<string, string>;
  ports?: string[];
  profiles?: string[];
  depends_on?: Record<string, { condition: string }> | string[];
}
interface ComposeFile {
  services: Record<string, Service>;
}

const compose = yaml.load(read('docker-compose.yml')) as ComposeFile;
const hostPorts = yaml.load(read('docker-compose.host-ports.yml')) as ComposeFile;

/** The Compose Specification's JSON schema as dclint ships it (draft-07). */
function composeSchemaValidator() {
  const file = path.join(path.dirname(require.resolve('dclint/package.json')), 'schemas/compose.schema.json');
  const { $schema: _draft, ...schema } = JSON.parse(readFileSync(file, 'utf8'));
  return new Ajv({ strict: false, allErrors: true }).compile(schema);
}

const dependsOn = (s: Service) => (Array.isArray(s.depends_on) ? Object.fromEntries(s.depends_on.map((d) => [d, { condition: 'service_started' }])) : s.depends_on ?? {});
const defaultServices = Object.entries(compose.services).filter(([, s]) => !s.profiles?.length);

describe('docker-compose.yml', () => {
  it.each([
    ['docker-compose.yml', compose],
    ['docker-compose.host-ports.yml', hostPorts],
  ])('%s is valid under the Compose Specification schema', (_file, doc) => {
    const validate = composeSchemaValidator();
    expect(validate(doc) ? [] : validate.errors).toEqual([]);
  });

  it('the schema check rejects a broken file (so the test above can fail)', () => {
    const validate = composeSchemaValidator();
    const broken = structuredClone(compose);
    (broken.services.api as Record<string, unknown>).depends_on = { setup: { condition: 'finished' } };
    (broken.services.api as Record<string, unknown>).restartt = 'always';
    expect(validate(broken)).toBe(false);
  });

  it('runs what npm run demo runs: migrate, seed, train and replay once, then the api and the worker', () => {
    const demo = read('scripts/demo.sh');
    const demoSteps = [...demo.matchAll(/run_step "[^"]+" (\w+)/g)].map((m) => m[1]);
    expect(demoSteps).toEqual(['build', 'create_database', 'migrate', 'seed', 'train', 'replay', 'wait_until_ready']);

    const setup = compose.services.setup;
    const command = Array.isArray(setup.command) ? setup.command.join(' ') : setup.command ?? '';
    expect([...command.matchAll(/npm run (\w+)/g)].map((m) => m[1])).toEqual(['migrate', 'seed', 'train', 'replay']);
    for (const name of ['api', 'worker']) {
      expect(dependsOn(compose.services[name]).setup).toEqual({ condition: 'service_completed_successfully' });
    }
    expect(defaultServices.map(([name]) => name).sort()).toEqual(['api', 'postgres', 'redis', 'setup', 'worker']);
  });

  it('gives the processes the settings the demo script gives them', () => {
    const demo = read('scripts/demo.sh');
    const demoDefault = (name: string) => demo.match(new RegExp(`export ${name}="\\$\\{${name}:-([^}]*)\\}"`))?.[1];
    for (const name of ['DEMO_MODE', 'TRAIN_LABEL_WINDOW_MINUTES', 'LOG_LEVEL']) {
      expect({ name, value: compose.services.api.environment?.[name] }).toEqual({ name, value: `\${${name}:-${demoDefault(name)}}` });
    }
  });

  it('publishes no host port a local Postgres, Redis or RabbitMQ would hold; binds to loopback by default', () => {
    const published = Object.entries(compose.services).flatMap(([name, s]) => (s.ports ?? []).map((p) => ({ name, p })));
    for (const { p } of published) expect(p).toMatch(/^(\$\{REELRANK_BIND:-127\.0\.0\.1\}|127\.0\.0\.1):/);
    expect(published.filter(({ name }) => !compose.services[name].profiles).map(({ name }) => name)).toEqual(['api']);
    for (const store of ['postgres', 'redis', 'rabbitmq']) expect(compose.services[store].ports).toBeUndefined();
    expect(Object.keys(hostPorts.services).sort()).toEqual(['postgres', 'rabbitmq', 'redis']);
  });

  it('has RabbitMQ for the stream process, and builds on the Node that CI tests on', () => {
    const stream = compose.services.stream;
    expect(stream.environment).toEqual(expect.objectContaining({ STREAM_TRANSPORT: 'rmq', STREAM_RMQ_URL: expect.stringContaining('@rabbitmq:5672') }));
    expect(dependsOn(stream).rabbitmq).toEqual({ condition: 'service_healthy' });
    const bases = [...read('Dockerfile').matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
    expect(bases.length).toBeGreaterThan(0);
    const ciNode = /^NODE_MAJOR=(\d+)$/m.exec(read('.ci/run'))?.[1];
    expect(ciNode).toBe('24');
    for (const base of bases.filter((b) => b.startsWith('node:'))) expect(base).toMatch(new RegExp(`^node:${ciNode}[-.]`));
  });

  it('provisions Grafana with the dashboard and Prometheus with the api and worker as targets', () => {
    const prometheus = yaml.load(read('ops/prometheus/prometheus.yml')) as { scrape_configs: { static_configs: { targets: string[] }[] }[] };
    const targets = prometheus.scrape_configs.flatMap((c) => c.static_configs.flatMap((s) => s.targets));
    expect(targets).toEqual(expect.arrayContaining(['api:3000', 'worker:9464']));
    expect(compose.services.grafana.profiles).toEqual(['monitoring']);
    const dashboard = JSON.parse(read('ops/grafana/dashboards/reelrank.json'));
    expect(dashboard.panels.length).toBeGreaterThan(0);
  });

  it('charts only metrics the processes export', () => {
    const dashboard = JSON.parse(read('ops/grafana/dashboards/reelrank.json')) as { panels: { targets?: { expr: string }[] }[] };
    const queried = new Set(
      dashboard.panels
        .flatMap((p) => p.targets ?? [])
        .flatMap((t) => [...t.expr.matchAll(/reelrank_[a-z_]+/g)].map((m) => m[0].replace(/_(bucket|count|sum)$/, ''))),
    );
    const sources = execFileSync('grep', ['-rhoE', "name: 'reelrank_[a-z_]+'", 'src'], { cwd: ROOT, encoding: 'utf8' });
    const exported = new Set([...sources.matchAll(/reelrank_[a-z_]+/g)].map((m) => m[0]));
    expect(queried.size).toBeGreaterThanOrEqual(15);
    expect([...queried].filter((name) => !exported.has(name))).toEqual([]);
  });
});

// `docker compose config` is the reference check; this machine's docker CLI may lack the compose plugin.
const dockerCompose = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
const hasDockerCompose = dockerCompose.status === 0;
if (!hasDockerCompose) {
  console.log(
    'docker-compose.spec: `docker compose config` skipped: no docker compose plugin here ' +
      `(${(dockerCompose.error?.message ?? dockerCompose.stderr ?? '').trim().split('\n')[0]}); the schema check above still ran`,
  );
}
(hasDockerCompose ? describe : describe.skip)('docker compose config', () => {
  it.each([[['--profile', 'stream', '--profile', 'kafka', '--profile', 'monitoring']], [[]]])('accepts the file with profiles %j', (profiles) => {
    execFileSync('docker', ['compose', '-f', 'docker-compose.yml', '-f', 'docker-compose.host-ports.yml', ...profiles, 'config', '-q'], { cwd: ROOT });
  });
});
