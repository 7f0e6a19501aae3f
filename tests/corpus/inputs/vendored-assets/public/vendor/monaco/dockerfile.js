/* stand-in for a bundled editor syntax module (monaco, codemirror ship dockerfile.js) */
define("vs/basic-languages/dockerfile/dockerfile", ["require", "exports"], function (r, e) { e.language = { tokenizer: { root: [[/FROM/, "keyword"]] } }; });
