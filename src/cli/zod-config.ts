import { config } from 'zod';

// A CLI parses each schema a few times: zod's JIT compilation costs more than it saves here.
config({ jitless: true });
