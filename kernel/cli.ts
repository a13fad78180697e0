#!/usr/bin/env node
/** The `dropout-lab` command line: install the kernelspec, run the kernel, run notebooks headlessly. */
const [command] = process.argv.slice(2);
console.error(`dropout-lab: unknown command ${command ?? "(none)"}`);
process.exit(2);
