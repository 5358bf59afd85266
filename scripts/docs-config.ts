// npm run docs:config: rewrites the README's configuration table from src/config/app-config.ts.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { AppConfig } from '../src/config/app-config';
import { readConfigVariables, renderConfigTable, replaceConfigTable } from './config-table';

const root = path.resolve(__dirname, '..');
const readmePath = path.join(root, 'README.md');
const source = readFileSync(path.join(root, 'src/config/app-config.ts'), 'utf8');
const table = renderConfigTable(readConfigVariables(source, AppConfig.name, new AppConfig()));
const before = readFileSync(readmePath, 'utf8');
const after = replaceConfigTable(before, table);
if (after === before) {
  console.log('README.md: configuration table already up to date');
} else {
  writeFileSync(readmePath, after);
  console.log('README.md: configuration table rewritten');
}
