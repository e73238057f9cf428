#!/usr/bin/env node
/**
 * The `ecs-caretaker` command: `ecs-caretaker audit ...` (cli.ts) and
 * `ecs-caretaker redrive ...` (../shared/redrive-cli.ts). This only connects
 * them to the process.
 */
import { main } from './cli.ts';

const argv = process.argv.slice(2);
const io = { stdout: process.stdout, stderr: process.stderr, env: process.env };
process.exitCode = argv[0] === 'redrive' ? await (await import('../shared/redrive-cli.ts')).redriveMain(argv.slice(1), io) : await main(argv, io);
