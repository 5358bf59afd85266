'use strict';

const { pathToFileURL } = require('node:url');

/**
 * Babel plugin for Jest: rewrites `import.meta` in ESM-only dependencies (NestJS 12,
 * jose, ...) so babel can compile them to CommonJS. Jest supports require(esm)
 * natively only on Node >= 24.9, so on Node 20 these packages are compiled; the app
 * itself loads them with Node's require(esm).
 *
 * `import.meta.url` becomes a string literal rather than an expression using
 * `require`, because modules often declare `const require = createRequire(import.meta.url)`,
 * which the CommonJS transform renames, and a `require` reference inside that
 * declaration would then read the binding before it is initialised.
 */
module.exports = function importMetaToCommonJs({ types: t, template }) {
  return {
    name: 'import-meta-to-commonjs',
    visitor: {
      MetaProperty(path, state) {
        if (path.node.meta.name !== 'import' || path.node.property.name !== 'meta') return;
        const url = t.stringLiteral(pathToFileURL(state.filename).href);
        const fields = {
          url,
          filename: t.identifier('__filename'),
          dirname: t.identifier('__dirname'),
          resolve: template.expression.ast`((specifier) => require('node:url').pathToFileURL(require.resolve(specifier)).href)`,
        };
        const parent = path.parentPath;
        if (parent.isMemberExpression() && !parent.node.computed && t.isIdentifier(parent.node.property)) {
          const replacement = fields[parent.node.property.name];
          if (replacement) {
            parent.replaceWith(replacement);
            return;
          }
        }
        path.replaceWith(
          t.objectExpression(
            ['url', 'filename', 'dirname'].map((key) => t.objectProperty(t.identifier(key), t.cloneNode(fields[key]))),
          ),
        );
      },
    },
  };
};
