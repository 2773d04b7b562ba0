// Builds the studio's modeler bundle (run by scripts/vendor.sh): frontend/studio/modeler.js with
// bpmn-js and its properties panel into kitas/static/vendor/studio/modeler.js.
//
// The site's Content-Security-Policy refuses style="" attributes. The properties panel parses two
// container <div>s with one each (domify), which the browser blocks and reports on every page load;
// the build drops those attributes and kitas.css gives the two containers the same rules.
import { readFile } from "node:fs/promises";

import { build } from "esbuild";

const PANEL = /bpmn-js-properties-panel[\\/]dist[\\/]index\.esm\.js$/;

const withoutInlineStyles = {
  name: "without-inline-styles",
  setup(builder) {
    builder.onLoad({ filter: PANEL }, async (args) => {
      const source = await readFile(args.path, "utf8");
      let dropped = 0;
      const contents = source.replace(/(domify\('<div) style="[^"]*"/g, (_match, start) => {
        dropped += 1;
        return start;
      });
      const warnings = dropped === 2 ? [] : [{ text: `expected 2 inline styles in the properties panel, dropped ${dropped}` }];
      return { contents, loader: "js", warnings };
    });
  },
};

const [, , entry, outfile] = process.argv;
await build({
  entryPoints: [entry],
  outfile,
  bundle: true,
  minify: true,
  format: "iife",
  target: "es2020",
  legalComments: "none",
  logLevel: "warning",
  plugins: [withoutInlineStyles],
});
