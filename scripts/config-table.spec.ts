import { readFileSync } from 'node:fs';
import path from 'node:path';
import { AppConfig } from '../src/config/app-config';
import { CONFIG_TABLE_END, CONFIG_TABLE_START, readConfigVariables, renderConfigTable, replaceConfigTable } from './config-table';

const root = path.resolve(__dirname, '..');
const source = readFileSync(path.join(root, 'src/config/app-config.ts'), 'utf8');
const variables = readConfigVariables(source, AppConfig.name, new AppConfig());

describe('README configuration table', () => {
  it('is the table generated from AppConfig (run `npm run docs:config` after changing the class)', () => {
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    expect(readme).toBe(replaceConfigTable(readme, renderConfigTable(variables)));
  });

  it('lists every variable the config class reads, each with a description', () => {
    expect(variables.map((v) => v.name)).toEqual(expect.arrayContaining(Object.keys(new AppConfig())));
    expect(variables.map((v) => v.name)).toEqual(expect.arrayContaining(['REDIS_CLUSTER_NODES', 'JWT_PUBLIC_KEY', 'JWT_JWKS_URL']));
    expect(variables.filter((v) => v.description === '').map((v) => v.name)).toEqual([]);
  });
});

describe(readConfigVariables.name, () => {
  const sample = `
    class Sample {
      /** Where it listens. */
      @IsInt() @Min(1) @Max(65535)
      PORT = 3000;

      /** Verbosity. */
      @IsIn(['info', 'debug'])
      LOG_LEVEL = 'info';

      /** Optional key. */
      @IsOptional() @IsString()
      KEY?: string;

      /** Big. */
      @IsInt() @Min(1024) @Max(64 * 1024 * 1024)
      LIMIT = 2048;
    }`;
  const read = readConfigVariables(sample, 'Sample', { PORT: 3000, LOG_LEVEL: 'info', LIMIT: 2048 });

  it('reads names, defaults, allowed values and descriptions', () => {
    expect(read).toEqual([
      { name: 'PORT', defaultValue: 3000, allowed: 'integer 1–65,535', description: 'Where it listens.' },
      { name: 'LOG_LEVEL', defaultValue: 'info', allowed: '`info`, `debug`', description: 'Verbosity.' },
      { name: 'KEY', defaultValue: undefined, allowed: '', description: 'Optional key.' },
      { name: 'LIMIT', defaultValue: 2048, allowed: 'integer 1,024–67,108,864', description: 'Big.' },
    ]);
  });

  it('renders one row per variable and replaces only the text between the markers', () => {
    const table = renderConfigTable(read);
    expect(table.split('\n')).toHaveLength(2 + read.length);
    expect(table).toContain('| `KEY` | (unset) |  | Optional key. |');
    const doc = `intro\n${CONFIG_TABLE_START}\nold\n${CONFIG_TABLE_END}\noutro`;
    expect(replaceConfigTable(doc, table)).toBe(`intro\n${CONFIG_TABLE_START}\n${table}\n${CONFIG_TABLE_END}\noutro`);
    expect(() => replaceConfigTable('no markers', table)).toThrow(/markers/);
  });
});
