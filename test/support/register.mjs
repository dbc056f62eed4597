// `node --import ./test/support/register.mjs` installs the TypeScript loader for the test run.
import { register } from 'node:module';

register('./ts-loader.mjs', import.meta.url);
