'use strict';

const fs = require('node:fs');
const path = require('node:path');

/**
 * Dependencies published as ES modules only (NestJS 12, jose, ...). Node 20 loads them
 * with require(esm), but Jest's module runtime cannot, so they are compiled to
 * CommonJS by babel. Found by reading package.json files so new ESM deps just work.
 */
function esmPackages() {
  const root = path.join(__dirname, 'node_modules');
  const names = [];
  const visit = (name) => {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(root, name, 'package.json'), 'utf8'));
      if (pkg.type === 'module') names.push(name);
    } catch {
      // not a package folder
    }
  };
  for (const entry of fs.existsSync(root) ? fs.readdirSync(root) : []) {
    if (entry.startsWith('.')) continue;
    if (entry.startsWith('@')) {
      for (const sub of fs.readdirSync(path.join(root, entry))) visit(`${entry}/${sub}`);
    } else {
      visit(entry);
    }
  }
  return names;
}

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

const importMetaPlugin = path.join(__dirname, 'test/support/babel-import-meta.js');
// babel-jest's cache key covers its options but not plugin source: pass the source hash.
const importMetaPluginHash = require('node:crypto').createHash('sha1').update(fs.readFileSync(importMetaPlugin)).digest('hex');

const shared = {
  rootDir: __dirname,
  testEnvironment: '<rootDir>/test/support/node-environment.js',
  moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json', 'node'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.jest.json' }],
    '^.+\\.m?js$': [
      'babel-jest',
      {
        babelrc: false,
        configFile: false,
        sourceType: 'unambiguous',
        plugins: [
          [importMetaPlugin, { hash: importMetaPluginHash }],
          '@babel/plugin-transform-dynamic-import',
          '@babel/plugin-transform-modules-commonjs',
        ],
      },
    ],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${esmPackages().map(escape).join('|')})/)`],
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/dist/'],
  modulePathIgnorePatterns: ['<rootDir>/dist/'],
};

const withServices = {
  ...shared,
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
};

/** @type {import('jest').Config} */
module.exports = {
  // Integration and e2e tests drive real services on a small, often busy machine.
  testTimeout: 60_000,
  // On CI, a run whose tests all passed must not then hang on a handle some test leaked
  // (Jest still names the problem: "Force exiting Jest"). Locally it waits, so leaks show.
  forceExit: Boolean(process.env.CI),
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/seed/**/*.spec.ts', '<rootDir>/scripts/**/*.spec.ts'],
    },
    {
      ...withServices,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.spec.ts'],
    },
    {
      ...withServices,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.spec.ts'],
    },
  ],
};
