'use strict';

/**
 * `node -r ./test/support/ts-register.js src/main.ts`: runs the TypeScript sources
 * in a child process (tests that signal or kill a real api/worker process) without
 * a build. Each file is transpiled alone with the project's compiler options, as
 * ts-jest does in isolated mode; type checking is the build's job.
 */
const fs = require('node:fs');
const path = require('node:path');
const ts = require('typescript');

const configPath = path.join(__dirname, '..', '..', 'tsconfig.json');
const { config } = ts.readConfigFile(configPath, ts.sys.readFile);
const { options } = ts.parseJsonConfigFileContent(config, ts.sys, path.dirname(configPath));
const compilerOptions = { ...options, module: ts.ModuleKind.CommonJS, sourceMap: false, inlineSourceMap: true, incremental: false };

require.extensions['.ts'] = (module, filename) => {
  const source = fs.readFileSync(filename, 'utf8');
  const { outputText } = ts.transpileModule(source, { compilerOptions, fileName: filename });
  module._compile(outputText, filename);
};
