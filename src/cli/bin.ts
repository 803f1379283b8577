#!/usr/bin/env node
import { main } from './main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Everything is closed by now; should a library keep a handle open, do not hang the shell.
    setTimeout(() => process.exit(code), 2000).unref();
  },
  () => {
    process.exitCode = 1;
  },
);
