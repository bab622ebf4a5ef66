/** `balance` (SPEC §2): the account balance, from the API. */
import { bdt } from '../util/words.js';
import { API, COMMON, type Command } from './command.js';
import { apiContext } from './context.js';
import { EXIT } from '../exit.js';

export const balance: Command = {
  command: 'balance',
  describe: 'print the account balance',
  uses: [...API, 'json', ...COMMON],
  async run(_a, options, { io }) {
    const ctx = apiContext(options);
    try {
      const b = await ctx.client.getBalance();
      io.out(options.json ? JSON.stringify(b) : `balance: ${bdt(b.balance, b.currency)}`);
    } finally {
      await ctx.close();
    }
    return EXIT.OK;
  },
};
