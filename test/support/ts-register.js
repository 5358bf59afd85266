'use strict';
/**
 * Lets a child `node` process run the TypeScript sources directly
 * (`node -r ./test/support/ts-register.js src/worker.ts`), for tests that need a real
 * separate process (e.g. one killed with SIGKILL). Transpile only, no type check.
 */
const fs = require('node:fs');
const path = require('node:path');
const ts = require('typescript');

const root = path.resolve(__dirname, '../..');
const configFile = ts.readConfigFile(path.join(root, 'tsconfig.json'), ts.sys.readFile);
const { options } = ts.parseJsonConfigFileContent(configFile.config, ts.sys, root);
const compilerOptions = { ...options, sourceMap: false, inlineSourceMap: true, incremental: false, noEmit: false };

require.extensions['.ts'] = (module, filename) => {
  const source = fs.readFileSync(filename, 'utf8');
  const { outputText } = ts.transpileModule(source, { compilerOptions, fileName: filename });
  module._compile(outputText, filename);
};
