#!/usr/bin/env node
import { main } from '../dist/cli.js';

// Exit as soon as the command has its result: a request abandoned at its deadline or at Ctrl-C (kafkajs cannot
// cancel one in flight) must not hold the process until the server answers or its socket times out.
void main(process.argv.slice(2)).then((code) => {
  process.exit(code);
});
