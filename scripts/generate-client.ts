// npm run client:generate: rewrites the typed client's schema from the OpenAPI document the
// api serves (built in-process, so it needs Postgres and Redis as the api does).
//   --document <file>  use a saved OpenAPI document instead    --out <file>  write there instead
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CLIENT_SCHEMA_PATH, clientSchemaSource, servedOpenApiDocument } from './client-schema';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { document: { type: 'string' }, out: { type: 'string' } }, strict: true });
  const doc = values.document ? JSON.parse(readFileSync(values.document, 'utf8')) : await servedOpenApiDocument();
  const out = values.out ?? path.resolve(__dirname, '..', CLIENT_SCHEMA_PATH);
  writeFileSync(out, await clientSchemaSource(doc));
  console.log(`${path.relative(process.cwd(), out)} written`);
  process.exit(0);
}

main().catch((err) => {
  console.error(`client:generate failed: ${(err as Error).stack}`);
  process.exit(1);
});
