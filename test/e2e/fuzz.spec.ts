import { NestFastifyApplication } from '@nestjs/platform-fastify';
import * as fc from 'fast-check';
import { SignJWT } from 'jose';
import request from 'supertest';
import { Rng } from '../../seed/random';
import { TokenVerifierService } from '../../src/auth/token-verifier.service';
import { setEnv } from '../support/env';
import { createTestApp } from '../support/test-app';

/**
 * Throws malformed and hostile requests at every route the api has (found from the
 * OpenAPI document and Fastify's route table, so routes added later are fuzzed too)
 * and checks each answer is a clean 4xx JSON error, or a 2xx where the input happens
 * to be valid: never a 5xx, never a stack trace or internal detail.
 */

jest.setTimeout(180_000);

const SEED = Number(process.env.FUZZ_SEED ?? 20261124);
const CASES_PER_ROUTE = Number(process.env.FUZZ_CASES ?? 60);
const ADMIN_KEY = 'reelrank-admin-dev-key';
const LEAKS = /\bat [\w$.<>]+ \(|\.ts:\d+|\.js:\d+|node_modules|QueryFailedError|TypeORM|SELECT |INSERT INTO|ECONNREFUSED|ReplyError|RangeError|TypeError/;
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
type Method = (typeof METHODS)[number];

interface Route {
  method: Method;
  path: string;
  /** The OpenAPI operation, when the route is documented. */
  operation?: Operation;
}

interface Schema {
  type?: string;
  format?: string;
  $ref?: string;
  required?: string[];
  maxLength?: number;
  maximum?: number;
  properties?: Record<string, Schema>;
  items?: Schema;
  enum?: unknown[];
  example?: unknown;
  default?: unknown;
  minimum?: number;
}

interface Operation {
  parameters?: { name: string; in: string; required?: boolean; schema?: Schema }[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
}

type OpenApiDoc = { paths: Record<string, Record<string, Operation>>; components?: { schemas?: Record<string, Schema> } };

interface Case {
  label: string;
  method: Method;
  url: string;
  headers: Record<string, string>;
  body?: string | Buffer;
}

/** Routes from the OpenAPI document plus Fastify's table (routes hidden from the docs, e.g. /metrics). */
function discoverRoutes(app: NestFastifyApplication, doc: OpenApiDoc): Route[] {
  const routes = new Map<string, Route>();
  const add = (method: string, path: string, operation?: Operation) => {
    const m = method.toUpperCase();
    const key = `${m} ${path}`;
    if ((METHODS as readonly string[]).includes(m) && !routes.has(key)) routes.set(key, { method: m as Method, path, operation });
  };
  for (const [path, ops] of Object.entries(doc.paths)) for (const [method, op] of Object.entries(ops)) add(method, path, op);
  // printRoutes draws a tree: each line adds a segment to its parent's path, 4 columns per level.
  const table = app.getHttpAdapter().getInstance().printRoutes({ commonPrefix: false });
  const stack: string[] = [];
  for (const line of table.split('\n')) {
    const match = /^((?:│ {3}| {4})*)[├└]── (.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!match) continue;
    const depth = match[1].length / 4;
    stack[depth] = (depth > 0 ? stack[depth - 1] : '') + match[2];
    stack.length = depth + 1;
    const path = stack[depth];
    if (!match[3] || path.startsWith('/docs') || path.includes('*')) continue;
    for (const method of match[3].split(', ')) add(method, path.replace(/:(\w+)/g, '{$1}'));
  }
  return [...routes.values()].sort((a, b) => `${a.path}${a.method}`.localeCompare(`${b.path}${b.method}`));
}

const FIELD_NAMES = ['userId', 'events', 'eventId', 'type', 'videoId', 'watchMs', 'requestId', 'occurredAt', 'limit', 'cursor', 'exclude', 'id', 'ids', 'videos', 'title', 'category', 'status', 'displayName', 'k', 'version', 'features', 'heads'];
const STRINGS = ['', ' ', 'u1', 'like', 'view', 'skip', 'v_1', 'a'.repeat(300), '\u0000', '\ud800', '🙂'.repeat(50), "' OR 1=1 --", '../../etc/passwd', '<script>alert(1)</script>', '${7*7}', '%00', 'null', 'NaN', '2026-13-45T99:99:99Z', '1970-01-01T00:00:00Z', '-1', '1e309'];
const NUMBERS = ['0', '-0', '-1', '1', '1.5', '1e309', '-1e309', '1e-400', '9007199254740993', '123456789012345678901234567890', '500', '501', '10000'];

function randomJson(rng: Rng, depth: number): string {
  const r = rng.next();
  if (depth <= 0 || r < 0.35) {
    const leaf = rng.next();
    if (leaf < 0.4) return JSON.stringify(rng.pick(STRINGS));
    if (leaf < 0.75) return rng.pick(NUMBERS);
    return rng.pick(['true', 'false', 'null']);
  }
  if (r < 0.55) return `[${Array.from({ length: rng.int(4) }, () => randomJson(rng, depth - 1)).join(',')}]`;
  const keys = Array.from({ length: 1 + rng.int(5) }, () => (rng.next() < 0.8 ? rng.pick(FIELD_NAMES) : rng.pick(STRINGS)));
  return `{${keys.map((k) => `${JSON.stringify(k)}:${randomJson(rng, depth - 1)}`).join(',')}}`;
}

/** A valid-looking value for a schema, from its example, default, enum or type. */
function exampleOf(schema: Schema | undefined, doc: OpenApiDoc, depth = 0): unknown {
  if (!schema || depth > 6) return null;
  if (schema.$ref) return exampleOf(doc.components?.schemas?.[schema.$ref.split('/').pop()!], doc, depth + 1);
  if (schema.example !== undefined) return schema.example;
  if (schema.default !== undefined) return schema.default;
  if (schema.enum?.length) return schema.enum[0];
  switch (schema.type) {
    case 'object':
      return Object.fromEntries(Object.entries(schema.properties ?? {}).map(([k, v]) => [k, exampleOf(v, doc, depth + 1)]));
    case 'array':
      return [exampleOf(schema.items, doc, depth + 1)];
    case 'integer':
    case 'number':
      return schema.minimum ?? 1;
    case 'boolean':
      return true;
    default:
      return 'x1';
  }
}

/** The value with one leaf (chosen by the PRNG) replaced by a hostile one, or one key dropped or added. */
function mutate(rng: Rng, value: unknown): unknown {
  if (Array.isArray(value)) {
    if (value.length === 0 || rng.next() < 0.2) return [...value, JSON.parse(randomJson(rng, 2))];
    const i = rng.int(value.length);
    return value.map((v, j) => (j === i ? mutate(rng, v) : v));
  }
  if (value && typeof value === 'object') {
    const keys = Object.keys(value);
    const r = rng.next();
    if (keys.length === 0 || r < 0.1) return { ...value, [rng.pick(FIELD_NAMES)]: JSON.parse(randomJson(rng, 1)) };
    const key = rng.pick(keys);
    if (r < 0.2) return Object.fromEntries(Object.entries(value).filter(([k]) => k !== key));
    return { ...value, [key]: mutate(rng, (value as Record<string, unknown>)[key]) };
  }
  return JSON.parse(rng.next() < 0.5 ? JSON.stringify(rng.pick(STRINGS)) : rng.pick(NUMBERS).replace(/^1e309$/, '1e308'));
}

/** Hostile bodies with their content type; the generated ones come from the seeded PRNG. */
function bodies(rng: Rng, bodyLimit: number): { label: string; type: string; body: string | Buffer }[] {
  const fixed = [
    { label: 'truncated JSON', type: 'application/json', body: '{"events":[{"eventId":' },
    { label: 'trailing comma', type: 'application/json', body: '{"userId":"u1",}' },
    { label: 'single quotes', type: 'application/json', body: "{'userId':'u1'}" },
    { label: 'NaN literal', type: 'application/json', body: '{"limit":NaN}' },
    { label: 'comment', type: 'application/json', body: '{"userId":"u1"/*x*/}' },
    { label: 'BOM', type: 'application/json', body: '\ufeff{"userId":"u1"}' },
    { label: 'empty', type: 'application/json', body: '' },
    { label: 'null', type: 'application/json', body: 'null' },
    { label: 'number', type: 'application/json', body: '1e309' },
    { label: 'string', type: 'application/json', body: '"x"' },
    { label: 'array', type: 'application/json', body: '[1,2,3]' },
    { label: '__proto__', type: 'application/json', body: '{"__proto__":{"polluted":true},"userId":"u1"}' },
    { label: 'nested __proto__', type: 'application/json', body: '{"events":[{"__proto__":{"polluted":true}}]}' },
    { label: 'constructor.prototype', type: 'application/json', body: '{"constructor":{"prototype":{"polluted":true}}}' },
    { label: 'deep nesting', type: 'application/json', body: `{"events":${'['.repeat(5000)}${']'.repeat(5000)}}` },
    { label: 'deep objects', type: 'application/json', body: `${'{"a":'.repeat(200)}1${'}'.repeat(200)}` },
    { label: 'huge numbers', type: 'application/json', body: '{"limit":1e400,"watchMs":-1e400,"k":123456789012345678901234567890}' },
    { label: 'long string', type: 'application/json', body: JSON.stringify({ userId: 'x'.repeat(bodyLimit - 64) }) },
    { label: 'many keys', type: 'application/json', body: `{${Array.from({ length: 20_000 }, (_, i) => `"k${i}":${i}`).join(',')}}` },
    { label: 'big event batch', type: 'application/json', body: JSON.stringify({ events: Array.from({ length: 5000 }, (_, i) => ({ eventId: `e${i}`, type: 'view', videoId: 'v1' })) }) },
    { label: 'over the body limit', type: 'application/json', body: JSON.stringify({ pad: 'x'.repeat(bodyLimit + 10) }) },
    { label: 'invalid UTF-8', type: 'application/json', body: Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0xff, 0x22, 0x7d]) },
    { label: 'lone surrogate escapes', type: 'application/json', body: '{"userId":"\\ud800\\udfff\\ud800","videoId":"\\u0000"}' },
    { label: 'duplicate keys', type: 'application/json', body: '{"userId":"u1","userId":{"$ne":1}}' },
    { label: 'utf-16 charset', type: 'application/json; charset=utf-16', body: Buffer.from('{"userId":"u1"}', 'utf16le') },
    { label: 'plain text', type: 'text/plain', body: 'hello' },
    { label: 'xml', type: 'application/xml', body: '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>' },
    { label: 'form with hostile keys', type: 'application/x-www-form-urlencoded', body: '__proto__[polluted]=1&constructor[prototype][polluted]=1&userId=u1&limit=-1' },
    { label: 'multipart junk', type: 'multipart/form-data; boundary=xyz', body: '--xyz\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n--xyz--' },
    { label: 'octet stream', type: 'application/octet-stream', body: Buffer.from(Array.from({ length: 256 }, (_, i) => i)) },
  ];
  const generated = Array.from({ length: 20 }, (_, i) => ({ label: `random JSON #${i}`, type: 'application/json', body: randomJson(rng, 4) }));
  return [...fixed, ...generated];
}

const PATH_PARAMS = ['1', '0', '-1', 'x'.repeat(99), 'x'.repeat(500), '%00', '..%2F..%2Fetc', '%E0%A4%A', '%FF', "'%3B%20DROP%20TABLE%20users%3B--", '%F0%9F%99%82', 'null', 'undefined', '__proto__', 'constructor'];
const QUERIES = [
  '',
  '?limit=-1',
  '?limit=0',
  '?limit=1e999',
  '?limit=abc',
  '?limit=1&limit=2',
  '?limit[]=1',
  '?limit[$gt]=1',
  '?cursor=%00',
  '?cursor=' + 'A'.repeat(4000),
  '?cursor=eyJhIjoxfQ',
  '?exclude=' + Array.from({ length: 2000 }, (_, i) => `v${i}`).join(','),
  '?__proto__[polluted]=1',
  '?constructor[prototype][polluted]=1',
  '?%FF=%FE',
  '?k=1e309&limit=9007199254740993',
  '?unknown=1',
];

describe('fuzz: hostile input at every route', () => {
  let app: NestFastifyApplication;
  let restore: () => void;
  let routes: Route[];
  let doc: OpenApiDoc;
  let auth: Record<string, Record<string, string>>;
  const bodyLimit = 64 * 1024;

  beforeAll(async () => {
    restore = setEnv({ DEMO_MODE: 'true', THROTTLE_ENABLED: 'false', BODY_LIMIT_BYTES: String(bodyLimit) });
    app = await createTestApp();
    doc = (await request(app.getHttpServer()).get('/docs-json').expect(200)).body;
    routes = discoverRoutes(app, doc);
    const tokens = app.get(TokenVerifierService);
    const key = (s: string) => new TextEncoder().encode(s);
    const unsigned = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from('{"sub":"u_admin"}').toString('base64url')}.`;
    auth = {
      anonymous: {},
      user: { authorization: `Bearer ${await tokens.issue('u_fuzz')}` },
      admin: { 'x-api-key': ADMIN_KEY, authorization: `Bearer ${await tokens.issue('u_fuzz_admin')}` },
      'alg none': { authorization: `Bearer ${unsigned}` },
      'wrong secret': { authorization: `Bearer ${await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('u1').sign(key('another-secret-of-enough-length'))}` },
      expired: { authorization: `Bearer ${await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('u1').setExpirationTime(1).sign(key('reelrank-dev-secret-change-me'))}` },
      garbage: { authorization: 'Bearer ' + 'x.'.repeat(2000), 'x-api-key': '\u00ff'.repeat(3) },
      'huge sub': { authorization: `Bearer ${await tokens.issue('s'.repeat(5000))}` },
    };
  });

  afterAll(async () => {
    await app.close();
    restore();
  });

  it('finds the api routes, including ones hidden from the docs', () => {
    const names = routes.map((r) => `${r.method} ${r.path}`);
    expect(names).toEqual(expect.arrayContaining(['GET /health/live', 'GET /health/ready', 'GET /metrics', 'GET /v1/admin/drift', 'POST /v1/demo/token']));
    expect(names).toEqual(expect.arrayContaining(['GET /v1/feed', 'POST /v1/events', 'GET /v1/demo/users']));
    expect(names.every((n) => / \/(health|metrics|v1|demo)\b/.test(n))).toBe(true);
  });

  it('never answers with a 5xx, a stack trace or a malformed error body', async () => {
    const rng = new Rng(SEED);
    const payloads = bodies(rng, bodyLimit);
    const violations: string[] = [];
    let sent = 0;
    const statuses = new Map<number, number>();

    const check = async (c: Case) => {
      let req = request(app.getHttpServer())[c.method.toLowerCase() as 'get'](c.url);
      for (const [k, v] of Object.entries(c.headers)) req = req.set(k, v);
      const res = c.body === undefined ? await req : await req.send(c.body);
      sent++;
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      const problems: string[] = [];
      if (res.status >= 500) problems.push(`status ${res.status}`);
      if (LEAKS.test(res.text ?? '')) problems.push('leaks internals');
      if (res.status >= 400) {
        if (!/^application\/json/.test(res.headers['content-type'] ?? '')) problems.push(`error content-type ${res.headers['content-type']}`);
        else if (res.body?.statusCode !== res.status || res.body?.message === undefined) problems.push('error body without statusCode/message');
      }
      if (problems.length > 0) violations.push(`${c.method} ${c.url.slice(0, 120)} [${c.label}] -> ${problems.join(', ')}: ${(res.text ?? '').slice(0, 300)}`);
    };

    // A third of the cases start from the documented example and change one thing, so the
    // handlers themselves (not only parsing and validation) see odd but well-formed input.
    const bodyFor = (route: Route, i: number) => {
      const schema = route.operation?.requestBody?.content?.['application/json']?.schema;
      if (!schema || i % 3 !== 0) return rng.pick(payloads);
      const example = exampleOf(schema, doc);
      return { label: 'mutated example', type: 'application/json', body: JSON.stringify(i % 6 === 0 ? example : mutate(rng, example)) };
    };
    const queryFor = (route: Route, i: number) => {
      const params = (route.operation?.parameters ?? []).filter((p) => p.in === 'query');
      if (params.length === 0 || i % 3 !== 1) return rng.pick(QUERIES);
      const values = Object.fromEntries(params.map((p) => [p.name, exampleOf(p.schema, doc)]));
      const chosen = i % 6 === 1 ? values : (mutate(rng, values) as Record<string, unknown>);
      return `?${new URLSearchParams(Object.entries(chosen).map(([k, v]): [string, string] => [k, typeof v === 'string' ? v : JSON.stringify(v)])).toString()}`;
    };

    for (const route of routes) {
      const concrete = () => route.path.replace(/\{[^}]+\}/g, () => rng.pick(PATH_PARAMS));
      const authNames = Object.keys(auth);
      for (let i = 0; i < CASES_PER_ROUTE; i++) {
        const who = authNames[i % authNames.length];
        const query = queryFor(route, i);
        const withBody = route.method !== 'GET' || rng.next() < 0.2;
        const payload = bodyFor(route, i);
        await check({
          label: `${who}${withBody ? `, ${payload.label}` : ''}`,
          method: route.method,
          url: concrete() + query,
          headers: { ...auth[who], ...(withBody ? { 'content-type': payload.type } : {}) },
          body: withBody ? payload.body : undefined,
        });
      }
      // a method the route does not have
      const other = METHODS.find((m) => !routes.some((r) => r.path === route.path && r.method === m));
      if (other) await check({ label: 'undeclared method', method: other, url: concrete(), headers: auth.admin });
    }

    expect(violations).toEqual([]);
    expect(sent).toBeGreaterThanOrEqual(routes.length * CASES_PER_ROUTE);
    // the hostile input was mostly refused, and some valid input was served
    expect([...statuses.keys()].some((s) => s >= 200 && s < 300)).toBe(true);
    expect([...statuses.keys()].filter((s) => s >= 400).length).toBeGreaterThanOrEqual(4);
  });

  it('leaves Object.prototype unpolluted and the api healthy', async () => {
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    await request(app.getHttpServer()).get('/health/ready').expect(200);
  });
});

// ---------------------------------------------------------------------------------------
// Property-based: requests generated by fast-check from each documented route's OpenAPI
// schema (valid values most of the time, a hostile value at any field now and then).

const PROPERTY_RUNS = Number(process.env.FUZZ_PROPERTY_RUNS ?? 30);

/** Values that broke (or could break) a handler or Postgres when sent in place of a valid one. */
const hostile: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, '', ' ', '\u0000', 'a\u0000b', '\ud800', 'x\udc00y', 1e308, -1e308, 5e-324, -1, 0, 2 ** 31, 2 ** 53 + 1, true, [], [[]], {}, [{}]),
  fc.constantFrom('2026-W49-4', '2026-337', '1900-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '2026-02-31T00:00:00Z', 'NaN', '1e309', 'x'.repeat(5000)),
  fc.string({ maxLength: 40, unit: 'binary' }),
  fc.double(),
  fc.integer(),
  fc.array(fc.oneof(fc.integer(), fc.string({ maxLength: 5 })), { maxLength: 3 }),
);

function resolve(schema: Schema | undefined, doc: OpenApiDoc): Schema | undefined {
  let s = schema;
  for (let i = 0; s?.$ref && i < 8; i++) s = doc.components?.schemas?.[s.$ref.split('/').pop()!];
  return s;
}

/** A value the schema allows (roughly: enums, types, a timestamp for date-ish fields), or now and then a hostile one. */
function valueFor(schema: Schema | undefined, doc: OpenApiDoc, name = '', depth = 0): fc.Arbitrary<unknown> {
  const s = resolve(schema, doc);
  return fc.oneof({ weight: 6, arbitrary: validFor(s, doc, name, depth) }, { weight: 1, arbitrary: hostile });
}

function validFor(s: Schema | undefined, doc: OpenApiDoc, name: string, depth: number): fc.Arbitrary<unknown> {
  if (!s || depth > 5) return fc.constant(null);
  if (s.enum?.length) return fc.constantFrom(...s.enum);
  switch (s.type) {
    case 'object': {
      const props = Object.entries(s.properties ?? {});
      const arbs = Object.fromEntries(props.map(([k, v]) => [k, valueFor(v, doc, k, depth + 1)]));
      return fc.record(arbs, { requiredKeys: (s.required ?? []).filter((k) => k in arbs) });
    }
    case 'array':
      return fc.array(valueFor(s.items, doc, name, depth + 1), { minLength: 1, maxLength: 3 });
    case 'integer':
      return fc.integer({ min: s.minimum ?? 0, max: Math.min(s.maximum ?? 100_000, 2 ** 31 - 1) });
    case 'number':
      return fc.double({ min: s.minimum ?? -1000, max: s.maximum ?? 1000, noNaN: true });
    case 'boolean':
      return fc.boolean();
    default:
      if (/At$|date|time/i.test(name) || s.format === 'date-time') {
        return fc.integer({ min: -5 * 86_400_000, max: 60_000 }).map((d) => new Date(Date.now() + d).toISOString());
      }
      if (s.example !== undefined) return fc.oneof(fc.constant(s.example), fc.stringMatching(/^[a-z0-9_]{1,12}$/));
      return fc.stringMatching(/^[A-Za-z0-9_:.-]{1,16}$/);
  }
}

/** Every property and parameter name a route knows, and every key the request sent: the names a 400 may point at. */
function namesOf(value: unknown, into: Set<string>): void {
  if (Array.isArray(value)) value.forEach((v) => namesOf(v, into));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      into.add(k);
      namesOf(v, into);
    }
  }
}

function schemaNames(schema: Schema | undefined, doc: OpenApiDoc, into: Set<string>, depth = 0): void {
  const s = resolve(schema, doc);
  if (!s || depth > 6) return;
  for (const [k, v] of Object.entries(s.properties ?? {})) {
    into.add(k);
    schemaNames(v, doc, into, depth + 1);
  }
  schemaNames(s.items, doc, into, depth + 1);
}

const PARTS = ['body', 'URL', 'query', 'cursor'];

describe('fuzz (property-based, fast-check): every documented route, requests built from its schema', () => {
  let app: NestFastifyApplication;
  let restore: () => void;
  let doc: OpenApiDoc;
  let headers: Record<string, string>;

  beforeAll(async () => {
    restore = setEnv({ DEMO_MODE: 'true', THROTTLE_ENABLED: 'false' });
    app = await createTestApp();
    doc = (await request(app.getHttpServer()).get('/docs-json').expect(200)).body;
    headers = { 'x-api-key': ADMIN_KEY, authorization: `Bearer ${await app.get(TokenVerifierService).issue('u_property')}` };
  });

  afterAll(async () => {
    await app.close();
    restore();
  });

  it('never answers 5xx, and every 400 names the field (or the part of the request) at fault', async () => {
    const routes = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops)
        .filter(([method]) => (METHODS as readonly string[]).includes(method.toUpperCase()))
        .map(([method, op]) => ({ method: method.toUpperCase() as Method, path, op })),
    );
    expect(routes.length).toBeGreaterThanOrEqual(12);
    let sent = 0;
    const statuses = new Map<number, number>();
    const started = Date.now();
    for (const { method, path, op } of routes) {
      const params = op.parameters ?? [];
      const bodySchema = op.requestBody?.content?.['application/json']?.schema ?? op.requestBody?.content?.['multipart/form-data']?.schema;
      const known = new Set<string>([...PARTS, ...params.map((p) => p.name)]);
      schemaNames(bodySchema, doc, known);
      const pathParams = fc.record(Object.fromEntries(params.filter((p) => p.in === 'path').map((p) => [p.name, fc.oneof(fc.stringMatching(/^[A-Za-z0-9_]{1,12}$/), fc.string({ minLength: 1, maxLength: 20 }))])));
      const query = fc.record(Object.fromEntries(params.filter((p) => p.in === 'query').map((p) => [p.name, valueFor(p.schema, doc, p.name)])), { requiredKeys: [] });
      const body = bodySchema ? fc.option(valueFor(bodySchema, doc), { freq: 8 }) : fc.constant(undefined);

      await fc.assert(
        fc.asyncProperty(pathParams, query, body, async (pathValues, queryValues, bodyValue) => {
          const url =
            path.replace(/\{(\w+)\}/g, (_, n: string) => encodeURIComponent(String((pathValues as Record<string, unknown>)[n]))) +
            (Object.keys(queryValues).length
              ? `?${new URLSearchParams(Object.entries(queryValues).map(([k, v]): [string, string] => [k, typeof v === 'string' ? v : JSON.stringify(v)]))}`
              : '');
          let req = request(app.getHttpServer())[method.toLowerCase() as 'get'](url).set(headers);
          const withBody = bodySchema !== undefined && bodyValue !== undefined;
          if (withBody) req = req.set('content-type', 'application/json');
          const res = withBody ? await req.send(JSON.stringify(bodyValue ?? null)) : await req;
          sent++;
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          const where = `${method} ${url.slice(0, 200)} ${withBody ? JSON.stringify(bodyValue).slice(0, 300) : ''} -> ${res.status} ${res.text.slice(0, 300)}`;
          if (res.status >= 500) throw new Error(`5xx: ${where}`);
          if (res.status === 400) {
            const names = new Set(known);
            namesOf(bodyValue, names);
            namesOf(queryValues, names);
            const message = ([] as unknown[]).concat(res.body?.message ?? '').join('; ');
            const named = [...names].some((n) => n.length > 0 && new RegExp(`(^|[^A-Za-z0-9_])${n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}([^A-Za-z0-9_]|$)`).test(message));
            if (!named) throw new Error(`400 naming no field: ${where}`);
          }
        }),
        { numRuns: PROPERTY_RUNS, seed: SEED, endOnFailure: true },
      );
    }
    expect(sent).toBeGreaterThanOrEqual(routes.length * PROPERTY_RUNS);
    // Both outcomes were reached: valid requests served, hostile ones refused.
    expect([...statuses.keys()].some((st) => st >= 200 && st < 300)).toBe(true);
    expect(statuses.get(400)).toBeGreaterThan(0);
    process.stdout.write(`property fuzz: ${sent} requests over ${routes.length} routes in ${Date.now() - started} ms: ${JSON.stringify(Object.fromEntries(statuses))}\n`);
  });
});
