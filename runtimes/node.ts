#!/usr/bin/env node
/** Node adapter: `node dist/runtimes/node.js <command>` (the `ridgeline` bin). */
import { runCli } from './cli.ts';
import { createHost } from './host.ts';
import { nodeGpu } from './webgpu_host.ts';

const interactive = Boolean(process.stderr.isTTY) && !process.env.CI;
// Workers started again from this process (sweep pools, batch scripts) get its node flags
// too: `--math relaxed` on Node 20 needs --experimental-wasm-relaxed-simd in every process.
const self = [process.execPath, ...process.execArgv, process.argv[1]];
process.exitCode = await runCli(process.argv.slice(2), createHost(`node ${process.versions.node}`, interactive, nodeGpu, self));
