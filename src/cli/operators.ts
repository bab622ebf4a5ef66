/** `operators` (SPEC §2): the operator list with amount limits, from the API. */
import { API, COMMON, type Command } from './command.js';
import { apiContext } from './context.js';
import { EXIT } from '../exit.js';

export const operators: Command = {
  command: 'operators',
  describe: 'print the operator list with amount limits',
  uses: [...API, 'json', ...COMMON],
  async run(_a, options, { io }) {
    const ctx = apiContext(options);
    try {
      const ops = await ctx.client.getOperators();
      if (options.json) {
        io.out(JSON.stringify(ops));
      } else {
        const w = Math.max(4, ...ops.map((o) => o.name.length));
        io.out(`${'id'.padEnd(4)} ${'name'.padEnd(w)} ${'code'.padEnd(8)} range (BDT)`);
        for (const o of ops)
          io.out(
            `${String(o.id).padEnd(4)} ${o.name.padEnd(w)} ${o.code.padEnd(8)} ${o.min_amount}–${o.max_amount}`,
          );
      }
    } finally {
      await ctx.close();
    }
    return EXIT.OK;
  },
};
