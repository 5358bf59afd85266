'use strict';

/**
 * Babel plugin for Jest: rewrites `import.meta` in ESM-only dependencies (NestJS 12,
 * jose, ...) so babel can compile them to CommonJS. Jest runs modules in its own vm
 * and supports require(esm) natively only on Node >= 24.9, so on Node 20 these
 * packages have to be compiled; the app itself uses Node's require(esm) at runtime.
 */
module.exports = function importMetaToCommonJs({ template, types: t }) {
  const replacements = {
    url: template.expression.ast`require('node:url').pathToFileURL(__filename).href`,
    filename: template.expression.ast`__filename`,
    dirname: template.expression.ast`__dirname`,
    resolve: template.expression.ast`((specifier) => require('node:url').pathToFileURL(require.resolve(specifier)).href)`,
  };
  return {
    name: 'import-meta-to-commonjs',
    visitor: {
      MetaProperty(path) {
        if (path.node.meta.name !== 'import' || path.node.property.name !== 'meta') return;
        const parent = path.parentPath;
        if (parent.isMemberExpression() && !parent.node.computed && t.isIdentifier(parent.node.property)) {
          const replacement = replacements[parent.node.property.name];
          if (replacement) {
            parent.replaceWith(t.cloneNode(replacement));
            return;
          }
        }
        path.replaceWith(
          t.objectExpression([
            t.objectProperty(t.identifier('url'), t.cloneNode(replacements.url)),
            t.objectProperty(t.identifier('filename'), t.identifier('__filename')),
            t.objectProperty(t.identifier('dirname'), t.identifier('__dirname')),
          ]),
        );
      },
    },
  };
};
